"""The plan as plain data (`model`), the operator's decisions (`decisions`), which
tables a restore writes (`selection`), and the reviewed plan as a file the restore runs
(`file`)."""
