// Package convtest writes tiny checkpoints of every family
// engine/models/convert converts: random weights under each family's
// published tensor names and layout (safetensors, sharded or not,
// config.json, a byte-level BPE tokenizer.json), small enough for tests
// to convert and run in milliseconds. The converter's own tests and the
// command line's pull tests (served by engine/models/hubtest) share it.
package convtest
