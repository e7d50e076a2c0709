"""Schemathesis hooks: authenticate as the admin that scripts/test created.

Generated requests may log that session out (revoke, logout-all, a password
change); on a 401 schemathesis asks for a new token, so the run keeps
exercising the Bearer endpoints.
"""

import os

import requests
import schemathesis


@schemathesis.auth()
class AdminBearer:
    def get(self, case, context):
        response = requests.post(
            f"{os.environ['ST_BASE_URL']}/api/auth/login",
            json={
                "username": os.environ["ST_USERNAME"],
                "password": os.environ["ST_PASSWORD"],
            },
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["data"]["accessToken"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def filter_path_parameters(context, path_parameters):
    """Leave the admin it signs in as alone: demoted or deactivated by a
    generated request, it could not sign in again."""
    if not isinstance(path_parameters, dict):
        return True
    return str(path_parameters.get("id")) != os.environ["ST_ADMIN_ID"]
