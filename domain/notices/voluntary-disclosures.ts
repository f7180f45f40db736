/**
 * The notices of voluntary disclosures (E12.4, E15.4): to staff when one awaits review, to the enterprise when it is
 * decided. Chinese first, English beside it where there was one. The repositories in `db/` send them (`notify`).
 */

/** An enterprise filed a disclosure: staff review it (审定) before publication (E12.4). */
export const voluntaryToReview = (v: { uscc: string; title: string }) => ({
  kind: 'voluntary.to_review',
  title: '企业自愿公示信息待审定 / a voluntary disclosure awaits review',
  body: `企业 ${v.uscc} 提交了自愿公示信息《${v.title}》，经审定后发布（E12 第四项）。/ To be reviewed before publication (E12.4).`,
});

/** Staff approved the disclosure: published until the enterprise asks to stop (E12.4, E15.4). */
export const voluntaryApproved = (v: { title: string }) => ({
  kind: 'voluntary.approved',
  title: '自愿公示信息已审定并发布 / your voluntary disclosure is published',
  body: `《${v.title}》已经审定，向社会公开发布，至贵企业要求终止公示止（E12 第四项、E15 第四项）。`,
});

/** Staff rejected the disclosure, with their reason (E12.4). */
export const voluntaryRejected = (v: { title: string; reason: string | null }) => ({
  kind: 'voluntary.rejected',
  title: '自愿公示信息未通过审定 / your voluntary disclosure was not approved',
  body: `《${v.title}》未通过审定，理由：${v.reason}（E12 第四项）。`,
});
