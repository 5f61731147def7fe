DROP TABLE risk_config_changes;
