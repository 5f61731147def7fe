-- The execution hand-off (docs/platform.md, "The execution hand-off"): an order the
-- platform's broker bridge has claimed is `sent`. A migration of its own: PostgreSQL
-- refuses to use a label that ALTER TYPE … ADD VALUE added in the same transaction, and
-- migration 12 uses it.
ALTER TYPE tradedesk.executionstate ADD VALUE 'sent' AFTER 'pending';
