"""Request and response bodies of the identity routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from isofind.identity.models import Role, User
from isofind.schemas import RequestBody

RoleLabel = Literal["user", "analyst", "manager", "admin"]


class UserOut(BaseModel):
    id: int
    username: str
    email: str | None
    display_name: str | None
    role: RoleLabel
    is_active: bool
    is_readonly: bool
    orcid: str | None
    affiliation: str | None
    language: str | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id, username=user.username, email=user.email,
            display_name=user.display_name, role=Role(user.role).label,
            is_active=user.is_active, is_readonly=user.is_readonly, orcid=user.orcid,
            affiliation=user.affiliation, language=user.language,
        )


class AdminUserOut(UserOut):
    failed_attempts: int
    locked: bool
    created_at: datetime


class LoginIn(RequestBody):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1000)


class LoginOut(BaseModel):
    success: bool
    user: UserOut


class CheckOut(BaseModel):
    authenticated: bool
    user: UserOut | None = None
    via: str | None = None
    mode: str | None = None


class ChangePasswordIn(RequestBody):
    old_password: str = Field(max_length=1000)
    new_password: str = Field(min_length=8, max_length=1000)
    confirm_password: str = Field(max_length=1000)

    @model_validator(mode="after")
    def _confirmed(self) -> ChangePasswordIn:
        if self.new_password != self.confirm_password:
            raise ValueError("confirm_password does not match new_password")
        return self


class RecoveryIn(RequestBody):
    recovery_code: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=8, max_length=1000)


class RecoveryOut(BaseModel):
    success: bool
    username: str
    new_recovery_code: str = Field(description="Shown once: store it safely.")


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None
    is_locked: bool
    current: bool = False


class Success(BaseModel):
    success: bool = True
    message: str | None = None


class UserCreateIn(RequestBody):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=8, max_length=1000)
    email: EmailStr | None = None
    role: RoleLabel = "user"
    display_name: str | None = Field(None, max_length=200)
    orcid: str | None = Field(None, max_length=40)
    affiliation: str | None = Field(None, max_length=300)
    is_readonly: bool = False


class ProfileIn(RequestBody):
    display_name: str | None = Field(None, max_length=200)
    email: EmailStr | None = None
    orcid: str | None = Field(None, max_length=40)
    affiliation: str | None = Field(None, max_length=300)


class V1User(BaseModel):
    user_id: int
    name: str
    orcid: str | None
    affiliation: str | None
    role: str | None
    email: str | None = None

    @classmethod
    def of(cls, user: User, *, with_email: bool) -> V1User:
        out = cls(user_id=user.id, name=user.name, orcid=user.orcid,
                  affiliation=user.affiliation, role=Role(user.role).label)
        if with_email:
            out.email = user.email
        return out


class AccessTokenIn(RequestBody):
    description: str = Field("", max_length=500)


class AccessTokenOut(BaseModel):
    access_token: str
    refresh_token: str
    expiration_utc_datetime: str
    description: str
