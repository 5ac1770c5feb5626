-- The /thongbao wizard is a flow now (flows/broadcast.json): a draft lives in the officials' group's session, like
-- any conversation's answers. The table the old wizard kept its drafts in has no reader or writer left.
DROP TABLE IF EXISTS broadcast_drafts;
