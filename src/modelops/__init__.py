"""GitOps MLOps pipeline library."""
