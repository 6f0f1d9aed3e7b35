import io

from postureapp.model import CollectorRun, RunStatus, Target
from postureapp.poll import _terminal_progress


def test_progress_bar_names_each_target_and_ends_the_line():
    out = io.StringIO()
    report = _terminal_progress(out, total=2, width=10)
    prod, dev = Target("kubernetes", "prod"), Target("aws", "dev")
    report("started", prod, None)
    report("started", dev, None)
    report("finished", prod, CollectorRun("kubernetes", "prod", RunStatus.OK, items=35))
    report("finished", dev, CollectorRun("aws", "dev", RunStatus.PARTIAL, items=3))
    text = out.getvalue()
    assert "collecting kubernetes:prod" in text
    assert "[#####-----] 1/2 kubernetes:prod: ok (35 items" in text
    assert "[##########] 2/2 aws:dev: partial (3 items" in text
    assert text.endswith("\n") and text.count("\n") == 1
