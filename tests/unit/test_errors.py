import inspect

import pytest

from lightbox import errors

ALL_ERRORS = [
    cls for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.LightboxError)
]
CONTRACT_STATUSES = {400, 401, 403, 404, 409, 413, 415, 422, 500, 503}


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_declares_its_own_status_and_code(error: type[errors.LightboxError]) -> None:
    assert "status" in vars(error), f"{error.__name__} inherits its status"
    assert "code" in vars(error), f"{error.__name__} inherits its code"
    assert error.status in CONTRACT_STATUSES


def test_codes_are_unique() -> None:
    codes = [error.code for error in ALL_ERRORS]
    assert len(codes) == len(set(codes))


def test_the_docstring_tree_names_every_error() -> None:
    tree = errors.__doc__ or ""
    missing = [error.__name__ for error in ALL_ERRORS if error.__name__ not in tree]
    assert not missing


def test_transient_errors_are_unavailable() -> None:
    for error in (errors.DatabaseUnavailable, errors.StorageUnavailable, errors.QueueUnavailable):
        assert issubclass(error, errors.Unavailable)
        assert error.status == 503


def test_message_falls_back_to_the_class_name() -> None:
    assert errors.NotFound().message == "NotFound"
    assert errors.NotFound("no asset x").message == "no asset x"
