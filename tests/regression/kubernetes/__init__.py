"""The Kubernetes regression bank (``python -m tests.regression.kubernetes``)."""
