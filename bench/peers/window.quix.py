"""Tumbling 1 h count per key over the NAB events topic in Quix Streams (the shape of window.driftline.ts)."""
import tempfile

from peers_common import arg, quix_app, start_timing

records = int(arg("records"))
app, source, sink = quix_app(state_dir=tempfile.mkdtemp(prefix="peers-quix-state-"))
seen = 0


def count_input(_value):
    # Windows emit only when one closes, so the run stops on its inputs: after the last one is processed.
    global seen
    seen += 1
    if seen == records:
        app.stop()


sdf = app.dataframe(source)
sdf = sdf.update(count_input)
sdf = sdf.tumbling_window(duration_ms=3_600_000).count().final()
sdf.to_topic(sink)
done = start_timing()
app.run()
done(seen)
