DROP TABLE config_changes;
