"""Stage `package`: write models/best in its serving format to models/serving (the image's model).

The folder is a DVC output (the same bytes for the same model); the same files also go into the
local BentoML model store under the model's tag, for `bentoml serve`.
"""

from pathlib import Path

from modelops.delivery.packaging import import_model, package, use_project_bentoml_home
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.serving.inference import read_model_card
from modelops.storage import write_json


def main(args):
    home = use_project_bentoml_home(Path.cwd())
    card = read_model_card(args.best)
    served = package(args.best, args.serving)
    model_tag, _ = import_model(args.best, packaged=args.serving)
    log.info(
        "packaged %s version %s (%s format) in %s; store entry %s in %s",
        card["name"], card["version"], served, args.serving, model_tag, home,
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
    parser.add_argument("--serving", required=True, help="where the serving model goes")
    parser.add_argument("--output", required=True, help="JSON record of the packaged model")
    run_stage("package", main, parser)
