"""Copy to instance/config.py and fill in; environment variables FLASK_* override these."""

# SECRET_KEY = "a long random string"          # python -c "import secrets; print(secrets.token_hex(32))"
# AUDIT_HASH_KEY = "another long random string"

# CAPILLARY_BASE_URL = "https://eu.api.capillarytech.com/"
# CAPILLARY_AUTH = "oauth"
# CAPILLARY_OAUTH_KEY = "..."
# CAPILLARY_OAUTH_SECRET = "..."
# CAPILLARY_PROGRAMS = {2199: "Gold Club", 1933: "Partner Rewards"}
# CAPILLARY_DEFAULT_PROGRAM = 2199
# CAPILLARY_CLUSTER_TIMEZONE = "Europe/London"
# DISPLAY_TIMEZONE = "Europe/London"
# NUMBER_LOCALE = "en_GB"

# DATABASE_URL = "postgresql://pointsdesk@db.internal/pointsdesk"
