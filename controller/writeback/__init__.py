"""Writes back to OpenCTI: Tanium alerts as sightings (`sightings`), with a durable cursor
(`cursor`) and the GraphQL calls they need (`opencti`). Never writes to Tanium."""
