"""AWS semantics over normalised resources: scopes, IAM policy evaluation, the IAM
action catalogue."""
