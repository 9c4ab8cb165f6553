// Every word the page shows, in English and Simplified Chinese, and the
// locale-aware formatting of times, ages and sizes. app.js never writes a
// user-visible string itself: it passes keys (and parameters) through t().

const STORAGE_KEY = 'gazette.lang';

const en = {
  'page.title': 'Gazette — check a public record',
  'lang.label': 'Language',
  'skip': 'Skip to the check',
  'privacy': 'Your document never leaves this device: it is fingerprinted here, and only its fingerprint (SHA-256 digest) is sent to the log to look it up.',
  'form.label': 'What to check',
  'drop.title': 'Drop a document here, with its receipt if you have one',
  'drop.pick': 'Or choose the document (and receipt) files',
  'receipt.label': 'Receipt (optional, a .tlog-proof file)',
  'digest.label': 'Or paste the document’s fingerprint',
  'digest.hint': 'sha256: followed by 64 hexadecimal characters, or just the 64 characters.',
  'check': 'Check',
  'clear': 'Clear',
  'chosen.document': 'Document: {name} ({size})',
  'chosen.receipt': 'Receipt: {name}',
  'how.title': 'How this works',
  'how.text': 'Your file is hashed on your device; only its fingerprint is looked up in the log. The proof that the record is in the log is checked here, in your browser, against the log’s checkpoint that independent witnesses signed — no server has to be trusted. This browser also remembers the last checkpoint it saw, so the log cannot quietly rewrite its history.',
  'footer.log': 'Log',
  'footer.witnesses': 'Independent witnesses',
  'footer.quorum': 'required: {quorum}',
  'footer.none': 'none (the log’s own signature only)',
  'footer.k-of-n': '{k} of {n}',
  'footer.saved': 'The log is unreachable: using the copy of its details saved in this browser.',
  'footer.announced': 'The log now announces witnesses other than the ones this page trusts. The page keeps checking against its own; the log’s announcement is kept in this browser as evidence.',

  'title.idle': 'Ready to check',
  'title.working': 'Checking…',
  'title.verified': 'Verified',
  'title.revoked': 'Revoked',
  'title.not-found': 'Not found',
  'title.invalid': 'Invalid',
  'title.unavailable': 'Could not check',

  'reason.loading': 'Loading the verifier…',
  'reason.idle': 'Choose a document or a receipt, or paste a fingerprint, then press Check.',
  'reason.hashing': 'Fingerprinting the document on this device…',
  'reason.hashing-pct': 'Fingerprinting the document on this device… {pct}%',
  'reason.looking': 'Looking up the fingerprint and checking the proofs…',
  'reason.receipt': 'Checking the receipt…',
  'reason.bad-digest': 'That is not a fingerprint: enter sha256: and 64 hexadecimal characters.',
  'reason.verified': 'Registered by {issuer}, and not revoked as of the log’s witnessed checkpoint of size {size}: both proven.',
  'reason.verified-receipt': 'The receipt proves {issuer} registered this record, and the log proves it was not revoked as of its witnessed checkpoint of size {size}.',
  'reason.verified-offline': 'The receipt proves {issuer} registered this record, but could not check whether it was revoked: the log is unreachable.',
  'reason.verified-unindexed': 'The receipt proves {issuer} registered this record; the log has not indexed it yet, so whether it was revoked could not be checked.',
  'reason.revoked': '{issuer} revoked this record (log entry {index}).',
  'reason.not-found': 'No record of this document in the log: proven against the log’s witnessed checkpoint of size {size}.',
  'reason.pending': 'This document was logged moments ago and is not yet in a checkpoint the witnesses have signed. Try again in a minute.',
  'reason.receipt-mismatch': 'This document is not the one the receipt is for.',
  'reason.receipt-digest-mismatch': 'The fingerprint you entered is not the one the receipt is for.',
  'reason.wrong-digest': 'The log answered with a record for a different document.',
  'reason.untrusted': 'The log’s checkpoint is not properly signed by the log and enough independent witnesses.',
  'reason.policy-changed': 'The log now shows a state that the independent witnesses this page trusts did not sign, and announces other witnesses: it may be showing you a different history. Nothing it shows can be relied on; the evidence is kept below.',
  'reason.untrusted-now': 'The receipt proves {issuer} registered this record, but the log now shows a state that the independent witnesses this page trusts did not sign, so whether the record is still valid could not be checked. The evidence is kept below.',
  'reason.no-policy': 'This page has no readable trust policy beside it (the file “policy”), so it cannot check anything.',
  'reason.bad-signature': 'The record is not signed by an agency registered with this log.',
  'reason.not-included': 'The proof does not show that this record is in the log.',
  'reason.bad-tiles': 'The log’s data does not match its own signed checkpoint.',
  'reason.malformed': 'The receipt or the log’s answer is damaged or not in the expected format.',
  'reason.rollback': 'The log misbehaved: it showed an older state than one it had already shown this browser.',
  'reason.fork': 'The log misbehaved: it showed this browser two histories that cannot both be true.',
  'reason.bad-index-proof': 'The log’s proof of what it holds for this document does not check out: the log is misbehaving.',
  'reason.unreachable': 'The log could not be reached, or its answer was broken; please try again later.',
  'reason.no-info': 'The log is unreachable and this browser has no saved copy of its details, so nothing can be checked yet.',
  'reason.no-wasm': 'The page’s WebAssembly bundle is missing or failed to load (run scripts/build-page).',
  'reason.unexpected': 'Something unexpected went wrong; the technical details are below.',

  'field.issuer': 'Issued by',
  'field.kind': 'Type of record',
  'field.id': 'Record number',
  'field.issued': 'Issued on',
  'field.index': 'Log entry',
  'field.size': 'Checkpoint size',
  'field.age': 'Checkpoint cosigned',
  'field.digest': 'Fingerprint (SHA-256)',
  'field.witnesses': 'Vouched for by',
  'field.revoked': 'Revoked by',
  'witness': '{name}, cosigned {time}',
  'revoked.value': 'log entry {index}, issued {issued}',

  'details.summary': 'For experts',
  'details.origin': 'Log origin',
  'details.note': 'Checkpoint (signed note)',
  'details.root': 'Root hash',
  'details.inclusion': 'Inclusion proof',
  'details.consistency': 'Consistency proof',
  'details.revocation': 'Revocation: signed record and inclusion proof',
  'details.tiles': 'Tiles fetched',
  'details.fields': 'Other fields of the record',
  'details.others': 'Other records for this document',
  'details.index-proof': 'The log’s index proof (verified in this browser)',
  'details.latest': 'The log’s latest checkpoint (now trusted by this browser)',
  'details.error': 'Technical message',
  'details.evidence': 'Evidence (also kept in this browser)',
  'details.replaced': 'Kept checkpoint replaced',
  'details.announced': 'Policy the log announces (not trusted)',
  'details.empty': 'none',
};

const zh = {
  'page.title': 'Gazette — 公共记录核验',
  'lang.label': '语言',
  'skip': '跳到核验',
  'privacy': '您的文件不会离开本设备：文件在本机计算指纹，只有指纹（SHA-256 摘要）会发送给日志用于查询。',
  'form.label': '核验内容',
  'drop.title': '将文件拖放到此处（如有回执，可一并拖入）',
  'drop.pick': '或选择文件（及回执）',
  'receipt.label': '回执（可选，.tlog-proof 文件）',
  'digest.label': '或粘贴文件指纹',
  'digest.hint': 'sha256: 加 64 位十六进制字符，或仅 64 位字符。',
  'check': '核验',
  'clear': '清除',
  'chosen.document': '文件：{name}（{size}）',
  'chosen.receipt': '回执：{name}',
  'how.title': '工作原理',
  'how.text': '文件在您的设备上计算哈希，只有其指纹会在日志中查询。记录已在日志中的证明就在您的浏览器里核对，依据的是经独立见证方签署的日志检查点——无需信任任何服务器。本浏览器还会记住上次看到的检查点，使日志无法悄悄改写历史。',
  'footer.log': '日志',
  'footer.witnesses': '独立见证方',
  'footer.quorum': '要求：{quorum}',
  'footer.none': '无（仅日志自身签名）',
  'footer.k-of-n': '{n} 个中的 {k} 个',
  'footer.saved': '日志无法访问：正在使用本浏览器保存的日志信息副本。',
  'footer.announced': '日志现在公布的见证方与本页面信任的不同。本页面继续按自己的信任设置核验；日志的公布内容已作为证据保存在本浏览器中。',

  'title.idle': '可以开始核验',
  'title.working': '正在核验…',
  'title.verified': '已验证',
  'title.revoked': '已撤销',
  'title.not-found': '未找到',
  'title.invalid': '无效',
  'title.unavailable': '无法核验',

  'reason.loading': '正在加载核验程序…',
  'reason.idle': '请选择文件或回执，或粘贴指纹，然后点击“核验”。',
  'reason.hashing': '正在本机计算文件指纹…',
  'reason.hashing-pct': '正在本机计算文件指纹… {pct}%',
  'reason.looking': '正在查询指纹并核对证明…',
  'reason.receipt': '正在核对回执…',
  'reason.bad-digest': '这不是有效的指纹：请输入 sha256: 加 64 位十六进制字符。',
  'reason.verified': '由 {issuer} 登记，且截至日志经见证的检查点（规模 {size}）未被撤销：两者均已证明。',
  'reason.verified-receipt': '回执证明此记录由 {issuer} 登记，日志证明截至其经见证的检查点（规模 {size}）此记录未被撤销。',
  'reason.verified-offline': '回执证明此记录由 {issuer} 登记，但无法检查其是否已被撤销：日志无法访问。',
  'reason.verified-unindexed': '回执证明此记录由 {issuer} 登记；日志尚未将其编入索引，因此无法检查其是否已被撤销。',
  'reason.revoked': '{issuer} 已撤销此记录（日志条目 {index}）。',
  'reason.not-found': '日志中没有此文件的记录：已对照日志经见证的检查点（规模 {size}）证明。',
  'reason.pending': '此文件刚刚登记，尚未纳入见证方已签署的检查点。请一分钟后再试。',
  'reason.receipt-mismatch': '此文件不是该回执所对应的文件。',
  'reason.receipt-digest-mismatch': '您输入的指纹不是该回执所对应的指纹。',
  'reason.wrong-digest': '日志返回的是另一份文件的记录。',
  'reason.untrusted': '日志的检查点没有日志本身和足够多独立见证方的有效签名。',
  'reason.policy-changed': '日志现在显示的状态未经本页面信任的独立见证方签署，并公布了其他见证方：它可能在向您展示另一段历史。其显示的任何内容都不可依赖；证据保存在下方。',
  'reason.untrusted-now': '回执证明此记录由 {issuer} 登记，但日志现在显示的状态未经本页面信任的独立见证方签署，因此无法检查此记录是否仍然有效。证据保存在下方。',
  'reason.no-policy': '本页面旁没有可读取的信任策略（文件“policy”），因此无法核验任何内容。',
  'reason.bad-signature': '该记录并非由在此日志登记的机构签名。',
  'reason.not-included': '证明无法表明此记录在日志中。',
  'reason.bad-tiles': '日志的数据与其自身签署的检查点不符。',
  'reason.malformed': '回执或日志的应答已损坏或格式不符。',
  'reason.rollback': '日志行为异常：它显示的状态比此前向本浏览器显示过的更旧。',
  'reason.fork': '日志行为异常：它向本浏览器展示了两段不可能同时成立的历史。',
  'reason.bad-index-proof': '日志就此文件所持内容给出的证明核对不通过：日志行为异常。',
  'reason.unreachable': '无法访问日志，或其应答已损坏；请稍后再试。',
  'reason.no-info': '日志无法访问，且本浏览器没有保存日志信息的副本，暂时无法核验。',
  'reason.no-wasm': '页面的 WebAssembly 组件缺失或加载失败（请运行 scripts/build-page）。',
  'reason.unexpected': '发生意外错误；技术细节见下方。',

  'field.issuer': '签发机构',
  'field.kind': '记录类型',
  'field.id': '记录编号',
  'field.issued': '签发时间',
  'field.index': '日志条目',
  'field.size': '检查点规模',
  'field.age': '检查点联署时间',
  'field.digest': '指纹（SHA-256）',
  'field.witnesses': '见证方',
  'field.revoked': '撤销记录',
  'witness': '{name}，联署于 {time}',
  'revoked.value': '日志条目 {index}，签发于 {issued}',

  'details.summary': '专业信息',
  'details.origin': '日志标识（origin）',
  'details.note': '检查点（签名文本）',
  'details.root': '根哈希',
  'details.inclusion': '包含证明',
  'details.consistency': '一致性证明',
  'details.revocation': '撤销：签名记录及包含证明',
  'details.tiles': '已获取的瓦片',
  'details.fields': '记录的其他字段',
  'details.others': '此文件的其他记录',
  'details.index-proof': '日志的索引证明（已在本浏览器中验证）',
  'details.latest': '日志的最新检查点（现已被本浏览器信任）',
  'details.error': '技术信息',
  'details.evidence': '证据（已保存在本浏览器中）',
  'details.replaced': '已替换本机保存的检查点',
  'details.announced': '日志公布的策略（不予信任）',
  'details.empty': '无',
};

const DICTIONARY = { en, 'zh-CN': zh };
let lang = 'en';

/** The current language tag: "en" or "zh-CN". */
export const getLang = () => lang;

/** The saved choice, else the browser's language ("zh…" → Chinese). */
export function initLang() {
  let saved = null;
  try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* storage disabled */ }
  const wanted = saved || navigator.language || 'en';
  lang = wanted.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
  document.documentElement.lang = lang;
}

/** Switches language and remembers the choice. */
export function setLang(tag) {
  lang = tag === 'zh-CN' ? 'zh-CN' : 'en';
  document.documentElement.lang = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* storage disabled */ }
}

/** The text for `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = DICTIONARY[lang][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in params ? String(params[name]) : all));
}

/** Fills the static page: data-i18n (text), data-i18n-aria (aria-label). */
export function translatePage() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  document.title = t('page.title');
}

const dateTime = () => new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' });

/** A Unix time in seconds, in local time. */
export const formatUnix = (seconds) => dateTime().format(new Date(seconds * 1000));

/** A record's RFC 3339 `issued` time in local time (as given if unparsable). */
export function formatIssued(text) {
  const when = new Date(text);
  return Number.isNaN(when.getTime()) ? text : dateTime().format(when);
}

/** How long ago a Unix time (seconds) was: "3 minutes ago" / "3分钟前". */
export function formatAge(seconds) {
  const ago = Math.max(0, Date.now() / 1000 - seconds);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const units = [['day', 86400], ['hour', 3600], ['minute', 60]];
  for (const [unit, size] of units) {
    if (ago >= size) return rtf.format(-Math.floor(ago / size), unit);
  }
  return rtf.format(-Math.floor(ago), 'second');
}

/** A file size: "1.2 MB". */
export function formatBytes(bytes) {
  const [value, unit] = bytes >= 1e6 ? [bytes / 1e6, 'megabyte'] : bytes >= 1e3 ? [bytes / 1e3, 'kilobyte'] : [bytes, 'byte'];
  // Long unit names for bytes: the short form is "54 byte".
  const unitDisplay = unit === 'byte' ? 'long' : 'short';
  return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay, maximumFractionDigits: 1 }).format(value);
}

/** A whole number with the locale's grouping. */
export const formatCount = (n) => new Intl.NumberFormat(lang).format(n);
