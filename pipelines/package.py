"""Stage `package`: write models/best in its serving format into the BentoML model store."""

from pathlib import Path

from modelops.delivery.packaging import import_model, use_project_bentoml_home
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.serving.inference import read_model_card
from modelops.storage import write_json


def main(args):
    home = use_project_bentoml_home(Path.cwd())
    card = read_model_card(args.best)
    model_tag, served = import_model(args.best)
    log.info(
        "packaged %s version %s as %s (%s format) in %s",
        card["name"], card["version"], model_tag, served, home,
    )  # fmt: skip
    write_json(
        args.output,
        {
            "model_tag": model_tag,
            "serving_format": served,
            "model_name": card["name"],
            "model_version": str(card["version"]),
        },
    )


if __name__ == "__main__":
    parser = stage_parser("package", __doc__)
    parser.add_argument("--best", required=True, help="the selected model folder")
    parser.add_argument("--output", required=True, help="JSON record of the packaged model")
    run_stage("package", main, parser)
