"""Setup: the engine and compile options, checked where they enter."""

import pytest

from pinnkan import Auto, Autograd, Jets, Setup


def test_the_default_engine_is_auto_and_engines_are_objects():
    assert Setup().engine == Auto()
    assert Setup(engine="auto").engine == Auto()
    assert Setup(engine=Jets(max_order=2)).engine == Jets(max_order=2)
    described = Setup(engine=Autograd(), compile=True).describe()
    assert described["engine"] == "autograd" and described["compile"] is True


@pytest.mark.parametrize("options, error, message", [
    ({"engine": "jets"}, TypeError, r"Setup.engine must be 'auto' or an Engine such as Jets\(\) or Autograd\(\)"),
    ({"engine": None}, TypeError, "Setup.engine must be 'auto'"),
    ({"compile": "yes"}, TypeError, "Setup.compile must be True or False"),
])
def test_bad_engine_options_name_the_fix(options, error, message):
    with pytest.raises(error, match=message):
        Setup(**options)
