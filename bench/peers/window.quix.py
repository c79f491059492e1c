"""Tumbling 1 h count per key over the NAB events topic in Quix Streams (the shape of window.driftline.ts)."""
import tempfile

from quixstreams import Application

from peers_common import arg, start_timing

records = int(arg("records"))
app = Application(
    broker_address=arg("brokers"),
    consumer_group=arg("group"),
    auto_offset_reset="earliest",
    auto_create_topics=False,
    use_changelog_topics=False,
    state_dir=tempfile.mkdtemp(prefix="peers-quix-state-"),
)
source = app.topic(arg("input"), value_deserializer="json")
sink = app.topic(arg("output"), value_serializer="json")
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
