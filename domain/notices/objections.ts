import { articleOf, type ObjectionDeadline, type Outcome, type Verdict } from '../objections';

/**
 * The texts an objection's process sends (E18, P21–P24): each template answers the notification's kind, title and
 * body (Chinese first, English beside it); the repositories in `db/objection*.ts` add the recipient, data and
 * dedupe key. Also the written answer of the outcome (P22), stored with the objection and sent as its notice.
 */

/** The body of the platform that handles an objection: 征集机构 (E18) for enterprises, 征集服务机构 (P22) for persons. */
const platformZh = (subjectType: string) => (subjectType === 'enterprise' ? '钦州市信用信息征集机构' : '钦州市信用信息征集服务机构');

/** "（暂定…）" after a provisional deadline in a notice, Chinese and English. */
const provisionalNote = (d: ObjectionDeadline) =>
  d.provisional
    ? {
        zh: `（暂定：${d.pendingYear} 年工作日历尚未载入，载入后确定的期限不会早于此日）`,
        en: ` (provisional until ${d.pendingYear}'s calendar is loaded; the final deadline is not earlier)`,
      }
    : { zh: '', en: '' };

const distinct = (names: string[]) => [...new Set(names)].join('、');
const verdictZh = (v: Verdict) => (v === 'confirmed_wrong' ? '确有错误' : '核实无误');

// ─── Filing, refusal ─────────────────────────────────────────────────────────────────────────────────────────

/** To staff: an objection was filed (one item name per record named). */
export const objectionFiled = (o: {
  applicantName: string;
  subjectType: string;
  subjectId: string;
  itemNames: string[];
  suspensionRequested: boolean;
}) => ({
  kind: 'objection.filed',
  title: `新的异议申请待受理 / a new objection awaits acceptance`,
  body: `${o.applicantName} 对 ${o.subjectId} 的 ${o.itemNames.length} 条信用信息（${distinct(o.itemNames)}）提出异议（${articleOf(o.subjectType, 'E18', 'P21')}）${o.suspensionRequested ? '，并申请暂停公开（E18 第二款）' : ''}。/ An objection was filed.`,
});

/** To the applicant: not accepted, with the staff's reason. */
export const objectionRefused = (o: { id: string; subjectType: string; reason: string }) => ({
  kind: 'objection.refused',
  title: '异议申请不予受理 / your objection was not accepted',
  body: `您的异议申请（编号 ${o.id}）不予受理。理由：${o.reason}。您可补充依据后重新提出（${articleOf(o.subjectType, 'E18', 'P21')}）。/ Not accepted: ${o.reason}`,
});

// ─── Verification ────────────────────────────────────────────────────────────────────────────────────────────

/** To the provider: verify by the deadline (one item name per record named). */
export const verificationRequested = (o: {
  id: string;
  applicantName: string;
  subjectType: string;
  subjectId: string;
  claim: string;
  itemNames: string[];
  deadline: ObjectionDeadline;
}) => {
  const d = o.deadline;
  const note = provisionalNote(d);
  return {
    kind: 'objection.verification_requested',
    title: `请于 ${d.deadline}${d.provisional ? '（暂定）' : ''}前核实异议信息 / please verify an objected record by ${d.deadline}${d.provisional ? ' (provisional)' : ''}`,
    body: `${o.applicantName} 对贵单位报送的 ${o.itemNames.length} 条信用信息（${distinct(o.itemNames)}，主体 ${o.subjectId}）提出异议：${o.claim}。请于 ${d.deadline}（受理后第 10 个工作日）${note.zh}前通过 POST /objections/${o.id}/verification 答复：确有错误的提供更正内容或删除，核实无误的说明理由（${articleOf(o.subjectType, 'E18', 'P22')}）。逾期未答复的，责令限期改正（E20、P24）${o.subjectType === 'person' ? '，且该信息不再提供查询（P22）' : ''}。/ Verify by ${d.deadline}${note.en}.`,
  };
};

/** To the applicant: accepted, verified by the deadline. */
export const objectionAccepted = (o: { id: string; subjectType: string; deadline: ObjectionDeadline }) => {
  const d = o.deadline;
  const note = provisionalNote(d);
  return {
    kind: 'objection.accepted',
    title: `异议已受理，核实期限 ${d.deadline} / your objection is accepted`,
    body: `您的异议申请（编号 ${o.id}）已于 ${d.acceptanceDate} 受理，将在 ${d.deadline}（10 个工作日内）${note.zh}前会同信息提供单位核实（${articleOf(o.subjectType, 'E18', 'P22')}）。/ Accepted on ${d.acceptanceDate}; verified by ${d.deadline}${note.en}.`,
  };
};

/** To staff: the provider answered (in time, after a provisional deadline, or late). */
export const providerAnswered = (o: { id: string; subjectId: string; verdict: Verdict; reason: string; inTime: boolean | null }) => ({
  kind: 'objection.provider_answered',
  title: `信息提供单位已答复异议核实：${verdictZh(o.verdict)} / the provider answered`,
  body: `异议 ${o.id}（主体 ${o.subjectId}）：信息提供单位${o.inTime ? '在期限内' : o.inTime === null ? '在暂定期限后' : '逾期'}答复「${verdictZh(o.verdict)}」，理由：${o.reason}。请作出处理结论（更正或维持）。/ Please signal the outcome.`,
});

/** To staff: the deadline has come, the provider answered, no outcome yet. */
export const outcomeOverdue = (o: { id: string; subjectType: string; subjectId: string; deadline: string | null }) => ({
  kind: 'objection.outcome_overdue',
  title: `异议处理期限 ${o.deadline} 已到，尚未作出结论 / the objection's deadline has come without an outcome`,
  body: `异议 ${o.id}（主体 ${o.subjectId}）信息提供单位已答复，请尽快作出更正或维持的结论（${articleOf(o.subjectType, 'E18', 'P22')}）。`,
});

/** To staff: the provider did not verify by the deadline (E20, P24). */
export const verificationOverdue = (o: { id: string; providerName: string; deadline: string | null; person: boolean }) => ({
  kind: 'objection.verification_overdue',
  title: `异议核实逾期：${o.providerName} 未在 ${o.deadline} 前答复 / verification overdue`,
  body: o.person
    ? `异议 ${o.id}：信息提供单位未在 10 个工作日内核实，所涉个人信用信息自即日起不再提供查询（P22 末款），并已转入责令限期改正程序（P24）。`
    : `异议 ${o.id}：信息提供单位未在 10 个工作日内核实（E18），请跟进处理；已转入责令限期改正程序（E20）。`,
});

/** To the applicant (a person): the record is withdrawn from queries until the outcome (P22 last para.). */
export const recordWithdrawn = (o: { id: string; deadline: string | null }) => ({
  kind: 'objection.record_withdrawn',
  title: '异议所涉信息暂停提供查询 / the objected record is withdrawn from queries',
  body: `信息提供单位未在 ${o.deadline} 前核实您的异议（编号 ${o.id}），所涉信息不再向社会提供查询（P22 末款），直至核实处理完毕。`,
});

/** To staff: a provisional deadline has come (the provider is not late before it is settled). */
export const provisionalDeadline = (o: {
  id: string;
  subjectType: string;
  subjectId: string;
  deadline: string | null;
  pendingYear: number | null;
}) => ({
  kind: 'objection.provisional_deadline',
  title: `异议核实期限（暂定）${o.deadline} 已到 / the provisional verification deadline ${o.deadline} has come`,
  body: `异议 ${o.id}（主体 ${o.subjectId}）：${o.pendingYear} 年工作日历尚未载入，10 个工作日的核实期限最早于 ${o.deadline} 届满，请尽快会同信息提供单位核实并作出结论（${articleOf(o.subjectType, 'E18', 'P22')}）。期限确定前，不认定信息提供单位逾期。/ The 10 working days may end on ${o.deadline}; the provider is not late until the deadline is settled with ${o.pendingYear}'s calendar.`,
});

// ─── The outcome ─────────────────────────────────────────────────────────────────────────────────────────────

/** One record's result in the outcome. */
export interface ItemOutcome {
  record_key: string;
  item_name: string;
  result: 'corrected' | 'deleted' | 'unchanged' | 'gone';
  version: number | null;
}

/** What the written answer says of the objection. */
export interface AnswerFacts {
  id: string;
  applicant_name: string;
  subject_type: string;
  subject_id: string;
  acceptance_date: string | null;
  deadline: string | null;
  claim: string;
  provider_reason: string | null;
}

/** The written answer of the outcome (E18, P22), dated `day` and signed by the platform's body. */
export function writtenAnswer(
  o: AnswerFacts,
  outcome: Outcome,
  reason: string,
  items: ItemOutcome[],
  providerName: string,
  day: string,
): string {
  const lines = [
    `${outcome === 'corrected' ? '异议处理结果书面答复' : '异议核实结果书面答复'}`,
    `异议编号：${o.id}`,
    `申请人：${o.applicant_name}`,
    `信息主体：${o.subject_id}`,
    `受理日期：${o.acceptance_date ?? '—'}；核实期限：${o.deadline ?? '—'}`,
    `您的异议：${o.claim}`,
    '',
  ];
  if (outcome === 'corrected') {
    lines.push(
      `经会同${providerName}核实，所涉信用信息确有错误，已予以更正（${articleOf(o.subject_type, 'E18', 'P22 第一款第（一）项、P23')}）：`,
    );
    const zh = { corrected: '已更正', deleted: '已删除', unchanged: '经核实无误，未作变更', gone: '该记录已不存在' } as const;
    for (const i of items)
      lines.push(`  · ${i.item_name}（${i.record_key}）：${zh[i.result]}${i.version ? `，现为第 ${i.version} 版` : ''}`);
    if (o.subject_type === 'enterprise') lines.push('更正情况已予以公示（E18）。');
    else lines.push('已通知信息主体及曾查询该信息的信息使用人（P23）。');
  } else {
    lines.push(`经会同${providerName}核实，所涉信用信息无误，予以维持（${articleOf(o.subject_type, 'E18', 'P22 第一款第（二）项')}）。`);
    for (const i of items) lines.push(`  · ${i.item_name}（${i.record_key}）`);
    if (o.subject_type === 'person')
      lines.push('如您仍有异议，可通过 POST /objections/{id}/disagreement 提出，平台将对相关信息作出存在异议的标注（P22）。');
  }
  lines.push(`信息提供单位意见：${o.provider_reason ?? '—'}`, `处理说明：${reason}`, '', `${platformZh(o.subject_type)}`, day);
  return lines.join('\n');
}

/** To the applicant: the outcome, its body the written answer. */
export const objectionAnswer = (o: { outcome: Outcome; answer: string }) => ({
  kind: 'objection.answer',
  title:
    o.outcome === 'corrected'
      ? '异议处理结果：已更正 / your objection: corrected'
      : '异议核实结果：信息无误，予以维持 / your objection: upheld',
  body: o.answer,
});

/** To the subject: its records corrected or deleted (only those changed). */
export const recordCorrected = (o: { id: string; subjectType: string; changed: ItemOutcome[] }) => ({
  kind: 'objection.record_corrected',
  title: '您的信用信息经异议核实已更正 / your credit record was corrected',
  body: `经异议核实（编号 ${o.id}），您的以下信用信息已${o.changed.map((i) => `${i.item_name}（${i.result === 'deleted' ? '删除' : `更正为第 ${i.version} 版`}）`).join('、')}（${articleOf(o.subjectType, 'E18', 'P23')}）。`,
});

/**
 * To every principal who was given a corrected record (P23). Written in one set-based statement, where `count` is
 * the SQL's count of that principal's records: pass a marker and split the body around it.
 */
export const recordCorrectedAfterQuery = (o: { subjectType: string; subjectId: string; count: string | number }) => ({
  kind: 'record.corrected_after_query',
  title: '您曾查询的信用信息已更正 / a record you queried was corrected',
  body: `您曾查询的 ${o.subjectId} 的 ${o.count} 条信用信息经异议核实有误，已更正或删除（${articleOf(o.subjectType, 'E18', 'P23')}）。请以更正后的信息为准，不得继续使用原信息。/ A record you were given was corrected.`,
});

// ─── Suspension (E18 2nd para.) and continued disagreement (P22) ─────────────────────────────────────────────

/** To staff: the applicant asks to suspend publication. */
export const suspensionRequested = (o: { id: string; subjectId: string; reason: string }) => ({
  kind: 'objection.suspension_requested',
  title: '异议申请人申请暂停公开 / the applicant asks to suspend publication',
  body: `异议 ${o.id}（主体 ${o.subjectId}）申请人申请在异议期间暂停公开所涉信息，理由：${o.reason}。认为合理的，可暂停公开（E18 第二款）。`,
});

/** To the applicant: publication is suspended while the objection is open. */
export const publicationSuspended = (o: { id: string; reason: string }) => ({
  kind: 'objection.publication_suspended',
  title: '异议期间已暂停公开所涉信息 / publication suspended while your objection is open',
  body: `异议 ${o.id}：所涉信息在异议处理期间暂停公开（E18 第二款）。理由：${o.reason}`,
});

/** To staff: after the outcome the applicant still disagrees (P22). */
export const stillDisputed = (o: { id: string; subjectId: string; statement: string }) => ({
  kind: 'objection.still_disputed',
  title: '异议处理完毕后申请人仍有异议 / the applicant still disagrees',
  body: `异议 ${o.id}（主体 ${o.subjectId}）：申请人仍有异议，所涉信息作存在异议标注（P22）。申请人陈述：${o.statement}`,
});
