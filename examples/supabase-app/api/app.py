"""Integrations API: stores third-party tokens for each user, encrypted."""

import os
from datetime import datetime

from cryptography.fernet import Fernet
from flask import Flask, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, validator
from supabase import create_client

app = Flask(__name__)
limiter = Limiter(get_remote_address, app=app, default_limits=["100 per minute"])

supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_SERVICE_ROLE"])
fernet = Fernet(os.environ["TOKEN_ENCRYPTION_KEY"])


class Integration(BaseModel):
    user_id: str
    provider: str
    token: str

    @validator("provider")
    def known_provider(cls, v: str) -> str:
        if v not in {"github", "slack"}:
            raise ValueError("unknown provider")
        return v


@app.post("/integrations")
@limiter.limit("10 per minute")
def save_integration():
    integration = Integration(**request.get_json(force=True))
    row = integration.dict()
    row["token"] = fernet.encrypt(integration.token.encode()).decode()
    row["updated_at"] = datetime.utcnow().isoformat()
    supabase.table("integrations").upsert(row).execute()
    return jsonify({"ok": True}), 201
