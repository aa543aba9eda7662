"""Stage `package`: import models/best into the BentoML model store and build the Bento."""

from pathlib import Path

from modelops.delivery.packaging import build_bento, import_model, use_project_bentoml_home
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.serving.inference import Predictor
from modelops.storage import write_json


def main(args):
    home = use_project_bentoml_home(Path.cwd())
    predictor = Predictor.from_directory(args.best)
    model_tag = import_model(predictor)
    card = predictor.card
    log.info("imported %s version %s as %s", card["name"], card["version"], model_tag)
    bento_tag = build_bento(Path.cwd(), model_tag)
    log.info("built bento %s in %s", bento_tag, home)
    write_json(
        args.output,
        {
            "bento_tag": bento_tag,
            "model_tag": model_tag,
            "model_name": predictor.card["name"],
            "model_version": str(predictor.card["version"]),
        },
    )


if __name__ == "__main__":
    parser = stage_parser("package", __doc__)
    parser.add_argument("--best", required=True, help="the selected model folder")
    parser.add_argument("--output", required=True, help="JSON record of the built tags")
    run_stage("package", main, parser)
