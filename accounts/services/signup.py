"""Self sign-up and the upgrade of a guest to a full account (the same user row, so chat
messages and everything else that points at the user stay theirs)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from booths.models import Profile

from ..models import Account
from . import AccountError

NAME_MAX = 80


def _clean_name(display_name: str) -> str:
    name = " ".join(display_name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise AccountError("account.invalid_name",
                           f"Choose a display name of 1 to {NAME_MAX} characters.")
    return name


def _clean_login(login: str) -> tuple[str, str]:
    """``(username, email)`` from a user name or an e-mail address."""
    login = login.strip()
    email = ""
    if "@" in login:
        try:
            validate_email(login)
        except ValidationError:
            raise AccountError("account.invalid_username", "That is not an e-mail address.") \
                from None
        email = login.lower()
        login = email
    if not 3 <= len(login) <= 150:
        raise AccountError("account.invalid_username",
                           "The user name has 3 to 150 characters.")
    try:
        UnicodeUsernameValidator()(login)
    except ValidationError:
        raise AccountError("account.invalid_username",
                           "Use letters, digits and @ . + - _ only in the user name.") from None
    if login.startswith("guest-"):
        raise AccountError("account.invalid_username", "User names may not start with guest-.")
    User = get_user_model()
    if User.objects.filter(username__iexact=login).exists() or (
            email and User.objects.filter(email__iexact=email).exists()):
        raise AccountError("account.taken", "That user name is taken.", status=409)
    return login, email


def _check_password(password: str, user) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError("account.weak_password", " ".join(exc.messages),
                           problems=list(exc.messages)) from None


def sign_up(login: str, password: str, display_name: str):
    """Create a visitor account; returns the user."""
    name = _clean_name(display_name)
    username, email = _clean_login(login)
    User = get_user_model()
    _check_password(password, User(username=username, email=email))
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
            Profile.objects.create(user=user, display_name=name, kind=Profile.Kind.VISITOR)
            Account.objects.create(user=user)
    except IntegrityError:
        raise AccountError("account.taken", "That user name is taken.", status=409) from None
    return user


def upgrade_guest(user, login: str, password: str, display_name: str | None = None):
    """Turn the guest ``user`` into a full visitor account, keeping the same row."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None or profile.kind != Profile.Kind.GUEST:
        raise AccountError("account.not_guest", "Only a guest can be upgraded.", status=409)
    name = _clean_name(display_name) if display_name else profile.display_name
    username, email = _clean_login(login)
    user.username, user.email = username, email
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(update_fields=["username", "email", "password"])
            Profile.objects.filter(pk=profile.pk).update(kind=Profile.Kind.VISITOR,
                                                         display_name=name)
            Account.objects.get_or_create(user=user)
    except IntegrityError:
        raise AccountError("account.taken", "That user name is taken.", status=409) from None
    return user
