"""The floor: a bare FastAPI endpoint with no database and no authentication."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/bare")
    def bare() -> dict[str, object]:
        return {
            "user_id": 1,
            "name": "Example User",
            "orcid": None,
            "affiliation": None,
            "role": None,
        }

    return app
