DROP TRIGGER snapshot_account_forget_day_on_truncate ON public.snapshot_account;
DROP TRIGGER snapshot_account_forget_day_on_delete ON public.snapshot_account;
DROP TRIGGER snapshot_account_forget_day_on_update ON public.snapshot_account;
DROP FUNCTION tradedesk.tradedesk_forget_account_day();
DROP TRIGGER snapshot_account_guard_day_limits ON public.snapshot_account;
DROP FUNCTION tradedesk.tradedesk_guard_day_limits();
DROP TABLE tradedesk.account_day;
