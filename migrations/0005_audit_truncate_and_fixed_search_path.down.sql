ALTER FUNCTION tradedesk.tradedesk_notify_change() RESET search_path;
ALTER FUNCTION tradedesk.tradedesk_keep_cancelled() RESET search_path;
ALTER FUNCTION tradedesk.tradedesk_refuse_history_change() RESET search_path;
ALTER FUNCTION tradedesk.tradedesk_guard_auto_execution() RESET search_path;
DROP TRIGGER config_changes_no_truncate ON tradedesk.config_changes;
