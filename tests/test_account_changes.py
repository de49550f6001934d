"""Password change, account deletion and the activity page."""

import pytest
from sqlalchemy import update

from app import passwords, sign_ins
from app.extensions import db
from app.models import SecurityEvent, SignIn, User
from app.passwords import hash_password
from tests.conftest import AuthActions, csrf_token_from

OLD = "correct horse battery"
NEW = "a brand new passphrase"


@pytest.fixture
def app(any_backend_app):
    return any_backend_app


@pytest.fixture
def devices(app, auth):
    auth.create_user()
    auth.login(remember=True)
    other = AuthActions(app, app.test_client())
    other.login(remember=True)
    return auth, other


def change_password(actions, current=OLD, new=NEW, confirm=None):
    page = actions.client.get("/account/password")
    return actions.client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
            "csrf_token": csrf_token_from(page),
        },
    )


def test_password_change_ends_every_other_session_and_keeps_this_one(app, devices):
    here, other = devices
    other_remember = other.client.get_cookie("__Host-remember").value
    here_remember = here.client.get_cookie("__Host-remember").value
    before = here.session_cookie()

    response = change_password(here)
    assert response.status_code == 303
    assert here.session_cookie() != before
    assert here.client.get("/dashboard").status_code == 200
    assert other.client.get("/dashboard").status_code == 302

    for remember in (other_remember, here_remember):
        replay = app.test_client()
        replay.set_cookie("__Host-remember", remember)
        assert replay.get("/dashboard").status_code == 302


def test_old_session_id_of_this_device_is_dead_after_a_password_change(app, devices):
    here, _ = devices
    before = here.session_cookie()
    change_password(here)
    replay = app.test_client()
    replay.set_cookie("__Host-session", before)
    response = replay.get("/dashboard")
    # Within MOVED_SESSION_GRACE the old id gets the 409 page of a late second click,
    # drawn for a visitor (tests/test_double_submit.py); nothing of the account shows.
    assert response.status_code == 409
    assert "alice" not in response.get_data(as_text=True)
    assert replay.get("/account/sessions").status_code == 409


def test_the_new_password_works_and_the_old_does_not(app, devices):
    here, _ = devices
    change_password(here)
    fresh = AuthActions(app, app.test_client())
    assert fresh.login(password=OLD).status_code == 401
    assert fresh.login(password=NEW).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong current", NEW, None, "That is not your password."),
        (OLD, "short", None, "between 8 and 256"),
        (OLD, NEW, "different", "The passwords do not match."),
    ],
)
def test_bad_password_changes_are_400_and_change_nothing(app, devices, current, new, confirm, message):
    here, other = devices
    response = change_password(here, current, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert other.client.get("/dashboard").status_code == 200
    assert AuthActions(app, app.test_client()).login(password=OLD).status_code == 303


def test_account_deletion_needs_the_password(app, devices):
    here, _ = devices
    page = here.client.get("/account/delete")
    response = here.client.post("/account/delete", data={"password": "wrong", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_account_deletion_leaves_nothing_behind(app, devices, store):
    here, other = devices
    page = here.client.get("/account/delete")
    response = here.client.post("/account/delete", data={"password": OLD, "csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    with app.app_context():
        for model in (User, SignIn, SecurityEvent):
            assert db.session.query(model).count() == 0
    assert store.count() == 0
    assert other.client.get("/dashboard").status_code == 302


def test_activity_shows_the_users_own_events(app, auth):
    auth.create_user()
    auth.login(password="wrong password")
    auth.login()
    auth.create_user("bob")
    text = auth.client.get("/account/activity").get_data(as_text=True)
    assert "Failed sign-in (wrong password)" in text
    assert "Signed in" in text
    with app.app_context():
        assert db.session.query(SecurityEvent).filter_by(user_id=2).count() == 0


def test_security_log_lines_hold_no_secrets(app, auth, caplog):
    auth.create_user()
    auth.login(password="wrong password")
    auth.login()
    remember_or_session = auth.session_cookie()
    log = "\n".join(record.getMessage() for record in caplog.records if record.name == "security")
    assert '"event": "login_failed"' in log and '"event": "login_succeeded"' in log
    assert "wrong password" not in log and "correct horse battery" not in log
    assert remember_or_session not in log


def test_a_remembered_sign_in_gets_an_ordinary_lifetime_after_a_password_change(app, auth, clock):
    auth.create_user()
    auth.login(remember=True)
    clock.advance(minutes=5)  # still within the re-authentication window
    assert change_password(auth).status_code == 303
    with app.app_context():
        record = db.session.query(SignIn).one()
        assert not record.remember
        assert record.expires_at == clock.now + app.config["PERMANENT_SESSION_LIFETIME"]


# With an outdated hash the sign-in also re-hashes the password it checked, and that
# write comes after the owner's change: it must not bring the old password back.
@pytest.mark.parametrize("outdated_hash", [False, True])
def test_a_sign_in_with_the_old_password_in_flight_dies_with_the_password_change(
    app, auth, store, monkeypatch, outdated_hash
):
    """The attacker's password check is still running when the owner changes it."""
    auth.create_user()
    attacker = AuthActions(app, app.test_client())
    token = attacker.token()
    real_verify = passwords.verify_password

    def owner_changes_the_password_meanwhile(password_hash, password):
        matches = real_verify(password_hash, password)
        # The owner's change commits on another connection while the hash is checked.
        with db.engine.begin() as other_connection:
            other_connection.execute(
                update(User).values(password_hash=hash_password(NEW), password_version=User.password_version + 1)
            )
        return matches

    monkeypatch.setattr(passwords, "verify_password", owner_changes_the_password_meanwhile)
    monkeypatch.setattr(passwords, "needs_rehash", lambda password_hash: outdated_hash)
    answer = attacker.client.post("/auth/login", data={"username": "alice", "password": OLD, "csrf_token": token})
    monkeypatch.undo()

    # The old password did match when it was checked, but the sign-in meets the change
    # as it is recorded: a lost race (409), no sign-in, no session entry, no device cookie.
    assert answer.status_code == 409
    assert attacker.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.query(SignIn).count() == 0
    assert attacker.client.get_cookie("__Host-session") is None
    assert attacker.client.get_cookie("__Host-device") is None
    assert store.count() == 0
    # The owner's new password is the one that works.
    assert AuthActions(app, app.test_client()).login(password=OLD).status_code == 401
    assert AuthActions(app, app.test_client()).login(password=NEW).status_code == 303


def test_sign_ins_made_with_a_changed_password_are_not_listed_as_live(app, auth):
    auth.create_user()
    auth.login()
    with app.app_context():
        db.session.execute(update(User).values(password_version=User.password_version + 1))
        db.session.commit()
        user = db.session.query(User).one()
        assert sign_ins.live_sign_ins(user) == []


def test_of_two_password_writes_at_once_the_one_reported_as_done_is_the_one_that_works(app, devices, monkeypatch):
    """Another request (a change elsewhere, a reset) sets the password while this change hashes.

    The first to write wins; the change that finds the password changed under it
    writes nothing and answers 409, so what the user is told matches what works.
    """
    owner, _ = devices
    real_hash = passwords.hash_password
    theirs = "the password that landed first"

    def other_request_writes_meanwhile(password):
        hashed = real_hash(password)
        with db.engine.begin() as other_connection:
            other_connection.execute(
                update(User).values(password_hash=real_hash(theirs), password_version=User.password_version + 1)
            )
        return hashed

    monkeypatch.setattr(passwords, "hash_password", other_request_writes_meanwhile)
    answer = change_password(owner)
    monkeypatch.undo()

    assert answer.status_code == 409
    assert AuthActions(app, app.test_client()).login(password=NEW).status_code == 401
    assert AuthActions(app, app.test_client()).login(password=theirs).status_code == 303


def test_a_password_change_from_a_sign_in_ended_meanwhile_changes_nothing(app, devices, monkeypatch):
    """The owner ends this device from another one while it changes the password: the
    answer is a 409, and it must be true: the password is the old one."""
    from sqlalchemy import delete

    changer, _ = devices
    real_hash = passwords.hash_password

    def this_sign_in_ended_meanwhile(password):
        hashed = real_hash(password)
        with db.engine.begin() as other_process:
            other_process.execute(delete(SignIn).where(SignIn.id == 1))
        return hashed

    monkeypatch.setattr(passwords, "hash_password", this_sign_in_ended_meanwhile)
    answer = change_password(changer)
    monkeypatch.undo()

    assert answer.status_code == 409
    assert AuthActions(app, app.test_client()).login(password=NEW).status_code == 401
    assert AuthActions(app, app.test_client()).login(password=OLD).status_code == 303


def test_an_account_deletion_racing_a_password_reset_deletes_nothing(app, devices, monkeypatch):
    """The password was right when checked, then a reset landed: the reset wins."""
    owner, _ = devices
    real_verify = passwords.verify_password

    def reset_lands_meanwhile(password_hash, password):
        matches = real_verify(password_hash, password)
        with db.engine.begin() as other_process:
            other_process.execute(
                update(User).values(password_hash=hash_password(NEW), password_version=User.password_version + 1)
            )
        return matches

    page = owner.client.get("/account/delete")
    monkeypatch.setattr(passwords, "verify_password", reset_lands_meanwhile)
    answer = owner.client.post("/account/delete", data={"password": OLD, "csrf_token": csrf_token_from(page)})
    monkeypatch.undo()

    assert answer.status_code == 409
    with app.app_context():
        assert db.session.query(User).count() == 1
    assert AuthActions(app, app.test_client()).login(password=NEW).status_code == 303
