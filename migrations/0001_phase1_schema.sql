-- The Phase-1 schema of the ai-trader platform, exactly as its Alembic revision 001
-- creates it (PLATFORM.md §1). Databases made by the platform are adopted, not re-created:
-- `tradedesk setup` verifies their catalog against this file and records it as applied.
-- Nothing here may change: the platform's own writers depend on every name below.
-- This migration has no down script on purpose: tradedesk never drops the platform's data.

CREATE TYPE tradeideastatus AS ENUM (
    'waiting', 'needs_approval', 'auto_executed', 'rejected', 'halted_by_risk'
);

CREATE TYPE decisionaction AS ENUM (
    'ai_proposed', 'ai_auto_executed', 'human_approved', 'human_rejected',
    'risk_rejected', 'ai_halted', 'ai_resumed'
);

CREATE TABLE users (
    id              UUID         NOT NULL PRIMARY KEY,
    email           VARCHAR(255) NOT NULL UNIQUE,
    hashed_password VARCHAR(255) NOT NULL,
    is_active       BOOLEAN      NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX idx_users_email ON users (email);

CREATE TABLE strategies (
    id                   UUID          NOT NULL PRIMARY KEY,
    name                 TEXT          NOT NULL,
    is_active            BOOLEAN       NOT NULL DEFAULT true,
    allowed_symbols      TEXT[]        NOT NULL,
    session_windows      JSON          NOT NULL,
    entry_conditions     JSON          NOT NULL,
    exit_rules           JSON          NOT NULL,
    forbidden_conditions JSON          NOT NULL,
    risk_caps            JSON          NOT NULL,
    rr_expectation       NUMERIC(5,2)  NOT NULL,
    created_at           TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE TABLE risk_config (
    id                            BOOLEAN       NOT NULL PRIMARY KEY,
    ai_trading_enabled            BOOLEAN       NOT NULL DEFAULT false,
    min_confidence_threshold      NUMERIC(5,2)  NOT NULL DEFAULT 90.0,
    max_lot_size                  NUMERIC(10,2) NOT NULL,
    max_concurrent_trades         INTEGER       NOT NULL,
    daily_profit_target           NUMERIC(12,2) NOT NULL,
    stop_after_target             BOOLEAN       NOT NULL DEFAULT true,
    max_drawdown_amount           NUMERIC(12,2) NOT NULL,
    halt_on_drawdown              BOOLEAN       NOT NULL DEFAULT true,
    allow_off_watchlist_autotrade BOOLEAN       NOT NULL DEFAULT false,
    last_halt_reason              TEXT,
    updated_at                    TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT single_row_check CHECK (id = true)
);

CREATE TABLE snapshot_market (
    id          UUID          NOT NULL PRIMARY KEY,
    symbol      TEXT          NOT NULL,
    timeframe   TEXT          NOT NULL,
    open        NUMERIC(18,6) NOT NULL,
    high        NUMERIC(18,6) NOT NULL,
    low         NUMERIC(18,6) NOT NULL,
    close       NUMERIC(18,6) NOT NULL,
    volume      INTEGER       NOT NULL,
    captured_at TIMESTAMPTZ   NOT NULL
);
CREATE INDEX idx_snapshot_market_symbol_timeframe_captured
    ON snapshot_market (symbol, timeframe, captured_at);

CREATE TABLE snapshot_indicators (
    id          UUID          NOT NULL PRIMARY KEY,
    symbol      TEXT          NOT NULL,
    timeframe   TEXT          NOT NULL,
    rsi_14      NUMERIC(6,2),
    sma_50      NUMERIC(18,6),
    sma_200     NUMERIC(18,6),
    macd        JSON,
    atr         NUMERIC(18,6),
    captured_at TIMESTAMPTZ   NOT NULL
);
CREATE INDEX idx_snapshot_indicators_symbol_timeframe_captured
    ON snapshot_indicators (symbol, timeframe, captured_at);

CREATE TABLE snapshot_calendar (
    id             UUID        NOT NULL PRIMARY KEY,
    event_time     TIMESTAMPTZ NOT NULL,
    currency       TEXT        NOT NULL,
    impact_level   TEXT        NOT NULL,
    title          TEXT        NOT NULL,
    previous_value TEXT,
    forecast_value TEXT,
    actual_value   TEXT,
    captured_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_snapshot_calendar_currency_event_time ON snapshot_calendar (currency, event_time);
CREATE INDEX idx_snapshot_calendar_captured ON snapshot_calendar (captured_at);

CREATE TABLE snapshot_news (
    id           UUID        NOT NULL PRIMARY KEY,
    headline     TEXT        NOT NULL,
    source       TEXT        NOT NULL,
    symbols      TEXT[]      DEFAULT '{}',
    published_at TIMESTAMPTZ NOT NULL,
    captured_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_snapshot_news_published ON snapshot_news (published_at);

CREATE TABLE snapshot_account (
    id             UUID          NOT NULL PRIMARY KEY,
    balance        NUMERIC(18,2) NOT NULL,
    equity         NUMERIC(18,2) NOT NULL,
    margin_used    NUMERIC(18,2) NOT NULL,
    margin_free    NUMERIC(18,2) NOT NULL,
    open_pl        NUMERIC(18,2) NOT NULL,
    open_positions INTEGER       NOT NULL,
    captured_at    TIMESTAMPTZ   NOT NULL
);
CREATE INDEX idx_snapshot_account_captured ON snapshot_account (captured_at);

CREATE TABLE trade_ideas (
    id               UUID            NOT NULL PRIMARY KEY,
    symbol           TEXT            NOT NULL,
    direction        TEXT            NOT NULL,
    entry_price      NUMERIC(18,6),
    entry_range      NUMERIC[],
    stop_loss        NUMERIC(18,6)   NOT NULL,
    take_profit      NUMERIC[]       NOT NULL,
    expected_hold    TEXT,
    rationale        TEXT            NOT NULL,
    confidence_score NUMERIC(5,2)    NOT NULL,
    status           tradeideastatus NOT NULL,
    strategy_id      UUID            REFERENCES strategies (id),
    snapshot_ref     UUID            NOT NULL,
    created_at       TIMESTAMPTZ     NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ     NOT NULL DEFAULT now(),
    CONSTRAINT check_direction CHECK (direction IN ('buy', 'sell'))
);
CREATE INDEX idx_trade_ideas_status ON trade_ideas (status);
CREATE INDEX idx_trade_ideas_symbol_created ON trade_ideas (symbol, created_at);

CREATE TABLE decision_history (
    id                UUID           NOT NULL PRIMARY KEY,
    occurred_at       TIMESTAMPTZ    NOT NULL DEFAULT now(),
    symbol            TEXT,
    action            decisionaction NOT NULL,
    rationale         TEXT           NOT NULL,
    confidence_score  NUMERIC(5,2),
    risk_check_result TEXT,
    strategy_id       UUID           REFERENCES strategies (id),
    trade_idea_id     UUID           REFERENCES trade_ideas (id),
    snapshot_ref      UUID,
    human_override    BOOLEAN        NOT NULL DEFAULT false
);
CREATE INDEX idx_decision_history_occurred ON decision_history (occurred_at);
CREATE INDEX idx_decision_history_symbol_occurred ON decision_history (symbol, occurred_at);
CREATE INDEX idx_decision_history_action_occurred ON decision_history (action, occurred_at);
