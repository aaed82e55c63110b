"""Runner stage: MLPerf Tiny measurements against a DUT session."""
