"""Kafka → JSON decode → map → Kafka in Quix Streams (the same shape as kafka-map.driftline.ts)."""
from quixstreams import Application

from peers_common import arg, start_timing

records = int(arg("records"))
app = Application(
    broker_address=arg("brokers"),
    consumer_group=arg("group"),
    auto_offset_reset="earliest",
    auto_create_topics=False,
    use_changelog_topics=False,
)
source = app.topic(arg("input"), value_deserializer="json")
sink = app.topic(arg("output"), value_serializer="json")
sdf = app.dataframe(source)
sdf = sdf.apply(lambda v: {**v, "seen": True})
sdf.to_topic(sink)
done = start_timing()
app.run(count=records, collect=False)
done(records)
