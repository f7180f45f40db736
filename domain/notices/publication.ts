/**
 * The notices of the publication of a batch (E12): what staff are told, Chinese first, English beside it. The
 * repositories in `db/` send them (`notify`), adding the recipient, entity and dedupe key.
 */

/** Records of a batch still held: the deadline is near (4th working day) or has passed (E12). */
export const heldRecordsAlert = (a: {
  stage: 'deadline_near' | 'deadline_passed';
  providerName: string;
  period: string;
  held: number;
  deadline: string;
}) => {
  const near = a.stage === 'deadline_near';
  return {
    kind: near ? 'publication.hold_deadline_near' : 'publication.hold_deadline_passed',
    title: near
      ? `暂缓发布的记录即将超过发布期限 / held records are near their publication deadline`
      : `暂缓发布的记录已超过发布期限 / held records are past their publication deadline`,
    body: `${a.providerName} ${a.period} 报送批次中有 ${a.held} 条记录仍处于暂缓发布状态，发布期限为 ${a.deadline}（收到之日起5个工作日内，E12）。请及时放行或作出不予发布的决定。 / ${a.held} held record(s) of this batch; deadline ${a.deadline} (E12).`,
  };
};
