"""LiveIndex warms each newly loaded version up before it serves; a failed warm-up does not stop it."""

from faqbot.serve.live import LiveIndex


def test_on_load_sees_each_loaded_version_and_its_failure_is_not_fatal(index_dir):
    seen = []
    live = LiveIndex(index_dir, on_load=lambda index: seen.append(index.version))
    index = live.current()
    assert seen == [index.version]
    assert live.current() is index and seen == [index.version]  # not again for the same version

    def broken(index):
        raise RuntimeError("no kernel")

    failing = LiveIndex(index_dir, on_load=broken)
    assert failing.current() is not None and failing.last_error is None
