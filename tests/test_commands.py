"""The command-line tools."""

from app.extensions import db
from app.models import User
from app.passwords import verify_password


def test_create_user_asks_for_the_password_twice(app):
    result = app.test_cli_runner().invoke(args=["create-user", "carol"], input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "Created user carol." in result.output
    with app.app_context():
        user = User.find_by_username("carol")
        assert verify_password(user.password_hash, "a long password")


def test_create_user_applies_the_sign_up_rules(app):
    result = app.test_cli_runner().invoke(args=["create-user", "no spaces"], input="short\nshort\n")
    assert result.exit_code == 1
    assert "Use only letters" in result.output
    assert "between 8 and 256" in result.output
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_init_db_is_an_old_name_for_db_upgrade_and_says_so(app):
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "deprecated" in result.output
    assert "flask db upgrade" in result.output
