"""ops-pipeline: municipal exports (SurveyXact, KL's Idébank, FOLK1A) → DuckDB marts for BI."""
