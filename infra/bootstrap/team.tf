# The team's data stores: the DVC remote and MLflow's artifact store. Same guarantees as the state
# bucket (KMS, versioning, no public access, TLS only), and the same policies check them.
module "dvc_bucket" {
  source = "../modules/bucket"

  name          = "${var.project}-dvc-${local.suffix}"
  kms_key_arn   = local.kms_alias_arn
  depends_on    = [aws_kms_alias.this]
  force_destroy = var.team_buckets_force_destroy
  tags          = local.tags
}

module "mlflow_bucket" {
  source = "../modules/bucket"

  name          = "${var.project}-mlflow-${local.suffix}"
  kms_key_arn   = local.kms_alias_arn
  depends_on    = [aws_kms_alias.this]
  force_destroy = var.team_buckets_force_destroy
  tags          = local.tags
}
