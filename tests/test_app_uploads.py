"""AppTest: an uploaded scenario is confined to shipped scenarios, uploads and shipped methods.

Whatever it names, the message shown never holds a server path and does not
tell whether a file outside the allowed folders exists.
"""

from __future__ import annotations

import pytest
from app_helpers import ROOT, open_page, write_tiny_case


@pytest.fixture
def tiny_env(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    (tmp_path / "secret.toml").write_text('name = "secret"\n', encoding="utf-8")
    return tmp_path


def _upload(name: str, text: str):
    at = open_page("whatif")
    at.file_uploader(key="whatif_upload").set_value((name, text.encode(), "x")).run()
    at.button(key="whatif_use_upload").click().run()
    assert not at.exception
    return at


def _shown(at) -> str:
    return "\n".join([e.value for e in at.error] + [c.value for c in at.caption])


@pytest.mark.parametrize(
    "extends",
    [
        "{tmp}/secret.toml",  # exists, outside
        "{tmp}/missing.toml",  # does not exist, outside
        "../../../../../../etc/passwd",
        "/etc/hostname",
    ],
)
def test_upload_may_not_extend_files_outside(extends, tiny_env):
    value = extends.format(tmp=tiny_env)
    at = _upload("mine.toml", f'extends = "{value}"\nname = "mine"\n')
    shown = _shown(at)
    assert "mine.toml" in shown
    assert "不是内置情景或本次上传的情景" in shown
    assert str(ROOT) not in shown
    assert "allocator-ui-" not in shown  # the session folder
    assert at.session_state["whatif_base"].endswith("baseline.toml")


def test_same_message_whether_or_not_the_outside_file_exists(tiny_env):
    a = _shown(_upload("a.toml", f'extends = "{tiny_env}/secret.toml"\n'))
    b = _shown(_upload("a.toml", f'extends = "{tiny_env}/nothing.toml"\n'))
    assert a.replace("secret", "X") == b.replace("nothing", "X")


@pytest.mark.parametrize("method", ["/etc/passwd", "../policy/huangyan_2022.toml", "nosuch"])
def test_upload_may_name_only_shipped_methods(method, tiny_env):
    at = _upload("m.toml", f'name = "m"\n[scoring]\nmethod = "{method}"\n')
    shown = _shown(at)
    assert "scoring.method" in shown
    assert "huangyan_2022" in shown  # the shipped ones are listed
    assert str(ROOT) not in shown


def test_errors_of_an_upload_show_no_server_path(tiny_env):
    at = _upload("bad.toml", 'name = "x"\n[caps]\nenergy_factr = 0.8\n')
    shown = _shown(at)
    assert "bad.toml" in shown
    assert "energy_factr" in shown
    assert "allocator-ui-" not in shown
    assert "/tmp" not in shown


def test_upload_may_extend_another_upload(tiny_env):
    at = open_page("whatif")
    at.file_uploader(key="whatif_upload").set_value(
        ("parent.toml", b'name = "parent"\n[caps]\nenergy_factor = 0.9\n', "x")
    ).run()
    at.button(key="whatif_use_upload").click().run()
    at.file_uploader(key="whatif_upload").set_value(
        ("child.toml", b'extends = "parent.toml"\nname = "child"\n', "x")
    ).run()
    at.button(key="whatif_use_upload").click().run()
    assert not at.exception
    assert not at.error
    assert at.session_state["whatif_base"].endswith("child.toml")
