import types

import jwtgate


def test_all_has_no_duplicates() -> None:
    # Its order is ruff's (RUF022), checked by the linter.
    assert len(jwtgate.__all__) == len(set(jwtgate.__all__))


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in jwtgate.__all__:
        assert hasattr(jwtgate, name), name
    public = {
        name
        for name, value in vars(jwtgate).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(jwtgate.__all__) - {"__version__"}


def test_exceptions_share_one_root() -> None:
    values = [getattr(jwtgate, name) for name in jwtgate.__all__]
    errors = [v for v in values if isinstance(v, type) and issubclass(v, BaseException)]
    assert len(errors) >= 15
    for cls in errors:
        assert issubclass(cls, jwtgate.JWTGateError), cls
