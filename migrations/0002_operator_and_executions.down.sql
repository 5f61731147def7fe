DROP TABLE executions;
DROP TYPE executionstate;
ALTER TABLE decision_history DROP COLUMN operator;
