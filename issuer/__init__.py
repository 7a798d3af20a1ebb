"""The issuer service: training providers define achievements and issue signed Open Badges 3.0 credentials."""
