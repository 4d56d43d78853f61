from tests.test_review import history  # noqa
from runner.review import build_review, render_html, render_markdown, render_text
def test_dump(history):
    r = build_review(history, "24h")
    open("/tmp/rv/out.txt", "w").write(render_text(r, colour=False, width=80))
    open("/tmp/rv/out.md", "w").write(render_markdown(r))
    open("/tmp/rv/out.html", "w").write(render_html(r))
    import shutil; shutil.rmtree("/tmp/rv/repo", ignore_errors=True); shutil.copytree(history, "/tmp/rv/repo", symlinks=True)
