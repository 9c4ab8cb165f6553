// Every word the page shows, in English and Simplified Chinese, and the
// locale-aware formatting of times, ages and sizes. app.js never writes a
// user-visible string itself: it passes keys (and parameters) through t().

const STORAGE_KEY = 'gazette.lang';

const en = {
  'page.title': 'Gazette — check a public record',
  'lang.label': 'Language',
  'skip': 'Skip to the check',
  'privacy': 'Your document never leaves this device: its fingerprint is computed here, and only the fingerprint is sent to look it up in the public register.',
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
  'chosen.receipt-link': 'Receipt: carried in the link you opened',
  'find.title': 'Or find a record by its number',
  'find.label': 'Find a record by its number',
  'find.hint': 'As written on the document: the agency that issued it, the type of record and its number.',
  'find.issuer': 'Agency',
  'find.kind': 'Type of record',
  'find.id': 'Record number',
  'find.button': 'Find',
  'how.title': 'How this works',
  'how.text': 'Your file is fingerprinted on your device (SHA-256); only the fingerprint is looked up in the public register. The proof that a record is in the register is checked here, in your browser, against a state of the register that independent witnesses confirmed — no server has to be trusted. This browser also remembers the last state it saw, so the register cannot quietly rewrite its history. Technical details are under “For experts” after each check.',
  'footer.log': 'Public register',
  'footer.witnesses': 'Independent witnesses',
  'footer.quorum': 'required: {quorum}',
  'footer.witness-list': '{names} ({rule})',
  'footer.none': 'none (the register’s own signature only)',
  'footer.k-of-n': '{k} of {n}',
  'footer.saved': 'The public register is unreachable: using the copy of its details saved in this browser.',
  'footer.announced': 'The public register now announces witnesses other than the ones this page trusts. The page keeps checking against its own; the register’s announcement is kept in this browser as evidence.',

  'title.idle': 'Ready to check',
  'title.working': 'Checking…',
  'title.verified': 'Verified',
  'title.verified-unchecked': 'Verified — but not checked for revocation',
  'title.revoked': 'Revoked',
  'title.not-found': 'Not found',
  'title.invalid': 'Invalid',
  'title.unavailable': 'Could not check',

  'reason.loading': 'Loading the verifier…',
  'reason.idle': 'Choose a document or a receipt, or paste a fingerprint, then press Check.',
  'reason.hashing': 'Fingerprinting the document on this device…',
  'reason.hashing-pct': 'Fingerprinting the document on this device… {pct}%',
  'reason.looking': 'Looking up the fingerprint and checking the proofs…',
  'reason.looking-name': 'Looking up the record and checking the proofs…',
  'reason.receipt': 'Checking the receipt…',
  'reason.bad-digest': 'That is not a fingerprint: enter sha256: and 64 hexadecimal characters.',
  'reason.bad-name': 'Fill in all three: the agency, the type of record and its number.',
  'reason.verified': '{issuer} registered this document and has not revoked it: both proven against the public register as the independent witnesses confirmed it.',
  'reason.verified-name': '{issuer} registered a record with this number and has not revoked it: both proven against the public register. To check that your copy is the registered document, drop it above: its fingerprint must be the one shown here.',
  'reason.verified-receipt': 'The receipt proves that {issuer} registered this record, and the public register proves that it has not been revoked.',
  'reason.verified-offline': 'The receipt proves that {issuer} registered this record.',
  'reason.verified-unindexed': 'The receipt proves that {issuer} registered this record.',
  'reason.revoked': '{issuer} revoked this record (its revocation notice is entry {index} of the public register).',
  'reason.revoked-name': '{issuer} registered a record with this number, then revoked it (its revocation notice is entry {index} of the public register).',
  'reason.not-found': 'This exact file is not in the public register: proven against all {entries} of the register, as the independent witnesses confirmed it.',
  'reason.name-not-found': 'The public register holds no record of type “{kind}” numbered “{id}” from {issuer}: proven against all {entries} of the register, as the independent witnesses confirmed it.',
  'reason.pending': 'This document was registered moments ago, and the independent witnesses have not confirmed it yet. Try again in a minute.',
  'reason.pending-name': 'This record was registered moments ago, and the independent witnesses have not confirmed it yet. Try again in a minute.',
  'reason.receipt-mismatch': 'This document is not the one the receipt is for.',
  'reason.receipt-digest-mismatch': 'The fingerprint you entered is not the one the receipt is for.',
  'reason.wrong-digest': 'The public register answered with a record for a different document.',
  'reason.untrusted': 'The public register’s current state is not properly signed by the register and enough independent witnesses.',
  'reason.policy-changed': 'The public register now shows a state that the independent witnesses this page trusts did not sign, and announces other witnesses: it may be showing you a different history. Nothing it shows can be relied on; the evidence is kept under “For experts”.',
  'reason.untrusted-now': 'The receipt proves that {issuer} registered this record, but the public register now shows a state that the independent witnesses this page trusts did not sign, so whether the record is still valid could not be checked. The evidence is kept under “For experts”.',
  'reason.no-policy': 'This page has no readable trust policy beside it (the file “policy”), so it cannot check anything.',
  'reason.bad-signature': 'The record is not signed with a key of its agency that this page can trust: not one the agency registered with this public register, or not one this page trusts.',
  'reason.not-included': 'The proof does not show that this record is in the public register.',
  'reason.bad-tiles': 'The public register’s data does not match the state it signed itself.',
  'reason.malformed': 'The receipt or the public register’s answer is damaged or not in the expected format.',
  'reason.rollback': 'The public register misbehaved: it showed an older state than one it had already shown this browser.',
  'reason.fork': 'The public register misbehaved: it showed this browser two histories that cannot both be true.',
  'reason.bad-index-proof': 'The public register’s proof of what it holds for this search does not check out: the register is misbehaving.',
  'reason.unreachable': 'The public register could not be reached, or its answer was broken; please try again later.',
  'reason.untrusted-key': 'This record is not {issuer}’s as far as this page can tell: it is signed with the key {key}, which the public register’s operator registered for {issuer} on its own, at entry {at} on {time}, and which is not one of the keys this page trusts for {issuer}.',
  'reason.untrusted-key-cosigned': 'This record is not {issuer}’s as far as this page can tell: it is signed with the key {key}, which the public register’s operator registered for {issuer} at entry {at} on {time}, confirmed by the agency’s key {by}, but which is not one of the keys this page trusts for {issuer}.',
  'reason.key-compromised': 'This record (entry {index}) is not {issuer}’s: its key {key} was declared compromised on {time} (entry {at}), for every record from entry {from} on. Records logged before entry {from} remain valid.',
  'reason.key-retired': 'This record (entry {index}) is not {issuer}’s: its key {key} was retired on {time} (entry {at}), for every record from entry {from} on. Records logged before entry {from} remain valid.',
  'reason.agency-unchecked': 'The receipt proves that this record is in the public register, but whether it is signed with a key of {issuer} could not be checked: the public register cannot be reached, this page trusts no keys of its own, and this browser has not checked {issuer}’s keys before. Check again when the register can be reached.',
  'reason.agency-unindexed': 'The receipt proves that this record is in the public register, but the register has not finished indexing it, so whether it is signed with a key of {issuer} could not be checked yet. Check again in a minute.',
  'reason.no-agency-keys': 'The page could not check the agency’s key for this record: the public register has not proven that agency’s keys that far yet. Check again in a minute.',
  'reason.no-wasm': 'The page’s WebAssembly bundle is missing or failed to load (run scripts/build-page).',
  'reason.unexpected': 'Something unexpected went wrong; the technical details are under “For experts”.',
  'reason.link-bad-character': 'The receipt in this link is damaged: the character “{char}” at position {position} cannot be part of a receipt link. Ask for the link again, or use the receipt file.',
  'reason.link-bad-length': 'The receipt in this link is cut short: {length} characters cannot encode a whole receipt. Ask for the link again, or use the receipt file.',
  'reason.link-too-large': 'The receipt in this link is too large to be a receipt ({bytes}; at most {max}). Ask for the link again, or use the receipt file.',
  'reason.link-empty': 'This link has “#receipt=” but no receipt after it. Ask for the link again, or use the receipt file.',
  'reason.link-not-receipt': 'The link carries {bytes} of data that is not a receipt (a receipt begins with “c2sp.org/tlog-proof@v1”). Ask for the link again, or use the receipt file.',

  'note.one-byte': 'A copy that differs by even one byte — saved again, scanned again, converted or edited — has a different fingerprint and will not be found. So “not found” may only mean that this exact file was not registered: try the original file you received, its receipt, or find the record by its number.',
  'note.one-byte-receipt': 'A copy that differs by even one byte — saved again, scanned again, converted or edited — has a different fingerprint from the registered document.',
  'note.name-not-found': 'Check the agency, the type of record and the number exactly as written on the document: one different character is a different number.',
  'caveat.offline': 'The page could not check whether it was revoked: the public register cannot be reached right now. Changes to the agency’s keys since this browser last checked could not be seen either. Check again later before relying on this record.',
  'caveat.unindexed': 'The page could not check whether it was revoked yet: the public register has not finished indexing it. Check again in a minute before relying on this record.',

  'field.issuer': 'Issued by',
  'field.kind': 'Type of record',
  'field.id': 'Record number',
  'field.issued': 'Issued on',
  'field.index': 'Entry number in the public register',
  'field.size': 'Register size when checked',
  'field.age': 'Last confirmed by the witnesses',
  'field.digest': 'Document fingerprint',
  'field.witnesses': 'Independent confirmation',
  'field.revoked': 'Revoked',
  'field.key': 'Agency’s signing key',
  'key.registered': '{key}, registered by the public register’s operator at entry {at} on {time}.',
  'key.registered-cosigned': '{key}, registered by the public register’s operator at entry {at} on {time}, and confirmed by the agency’s key {by}.',
  'key.also-pinned': 'It is one of the keys this page trusts.',
  'key.pinned': 'One of the keys this page trusts (checked without the public register).',
  'key.compromised': 'Declared compromised on {time}, for records from entry {from} on.',
  'key.retired': 'Retired on {time}, for records from entry {from} on.',
  'size.one': '{count} entry',
  'size.other': '{count} entries',
  'witnesses.one': '{count} independent witness confirmed it ({names})',
  'witnesses.other': '{count} independent witnesses confirmed it ({names})',
  'list.separator': ', ',
  'witness': '{name}, confirmed on {time}',
  'revoked.value': 'on {issued}, by the revocation notice at entry {index} of the public register',

  'share.button': 'Copy link to this check',
  'share.label': 'Link to this check',
  'share.copied': 'Link copied. Whoever opens it gets this check made afresh in their own browser.',
  'share.select': 'Copy the link above (this browser did not let the page copy it).',
  'share.receipt': 'The receipt is carried after “#” in the link, which browsers never send to any server.',

  'details.summary': 'For experts',
  'details.origin': 'Log origin',
  'details.kind': 'Kind (as signed)',
  'details.issued': 'Issued (RFC 3339, as signed)',
  'details.index': 'Log entry (leaf index)',
  'details.revoked': 'Revoked by (leaf index, issued as signed)',
  'details.size': 'Checkpoint size (tree size)',
  'details.cosignatures': 'Cosignatures (witness, Unix time, UTC)',
  'details.note': 'Checkpoint (signed note)',
  'details.root': 'Root hash',
  'details.inclusion': 'Inclusion proof',
  'details.consistency': 'Consistency proof',
  'details.revocation': 'Revocation: signed record and inclusion proof',
  'details.tiles': 'Tiles fetched',
  'details.fields': 'Other fields of the record',
  'details.others': 'Other records for this document',
  'details.key': 'The record’s key (agency registry)',
  'details.key-registered': 'registered at entry {at} ({time}), valid from entry {from}',
  'details.key-operator': 'registered by the log operator alone',
  'details.key-cosigned': 'registered by the log operator, co-signed by the agency’s key {by}',
  'details.key-pinned': 'pinned by this page',
  'details.key-compromised': 'declared compromised at entry {at} ({time}): not valid from entry {from} on',
  'details.key-retired': 'retired at entry {at} ({time}): not valid from entry {from} on',
  'details.registry': 'Agencies’ key histories (registry entries proven in this browser)',
  'details.registry-problem': 'entry {index} ignored: {message}',
  'details.index-proof': 'The log’s index proof (verified in this browser)',
  'details.latest': 'The log’s latest checkpoint (now trusted by this browser)',
  'details.error': 'Technical message',
  'details.evidence': 'Evidence (also kept in this browser)',
  'details.replaced': 'Kept checkpoint replaced',
  'details.announced': 'Policy the log announces (not trusted)',
  'details.empty': 'none',

  'details.issuer': 'Agency (key name, as signed)',
  'details.names': 'Display names not used (the file “names” beside this page)',
  'footer.names-bad': 'The display names beside this page (the file “names”) could not be read, so agencies are shown by their key names: {problem}',

  'certificate.button': 'Certificate',
  'certificate.print': 'Print or save as PDF',
  'certificate.back': 'Back',
  'certificate.label': 'Evidence certificate',
  'cert.title': 'Evidence certificate',
  'cert.intro': 'This record was checked in a web browser against the public register, under the trust policy of the page that printed this certificate.',
  'cert.status': 'Result of the check',
  'cert.checked': 'Checked on',
  'cert.agency': 'Issuing agency',
  'cert.kind': 'Type of record',
  'cert.id': 'Record number',
  'cert.digest': 'Document fingerprint (SHA-256)',
  'cert.issued': 'Time of issue',
  'cert.log': 'Public register and entry',
  'cert.entry': 'entry {index}',
  'cert.checkpoint': 'Witnessed state of the register',
  'cert.root': 'root hash',
  'cert.witnesses': 'Cosigned by independent witnesses',
  'cert.scan': 'Scan to check this record online; the receipt in the link never reaches a server.',
  'cert.no-qr': 'The link to this check is too long for a QR code: check the record online with its receipt file instead.',
};

const zh = {
  'page.title': 'Gazette — 公共记录核验',
  'lang.label': '语言',
  'skip': '跳到核验',
  'privacy': '您的文件不会离开本设备：文件指纹在本机计算，只有指纹会被发送到公共登记簿用于查询。',
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
  'chosen.receipt-link': '回执：包含在您打开的链接中',
  'find.title': '或按记录编号查找',
  'find.label': '按记录编号查找',
  'find.hint': '按文件上所写填写：签发机构、记录类型和记录编号。',
  'find.issuer': '签发机构',
  'find.kind': '记录类型',
  'find.id': '记录编号',
  'find.button': '查找',
  'how.title': '工作原理',
  'how.text': '文件在您的设备上计算指纹（SHA-256），只有指纹会在公共登记簿中查询。记录已在登记簿中的证明就在您的浏览器里核对，依据的是经独立见证方确认的登记簿状态——无需信任任何服务器。本浏览器还会记住上次看到的状态，使登记簿无法悄悄改写历史。每次核验后的技术细节见“专业信息”。',
  'footer.log': '公共登记簿',
  'footer.witnesses': '独立见证方',
  'footer.quorum': '要求：{quorum}',
  'footer.witness-list': '{names}（{rule}）',
  'footer.none': '无（仅登记簿自身签名）',
  'footer.k-of-n': '{n} 个中的 {k} 个',
  'footer.saved': '公共登记簿无法访问：正在使用本浏览器保存的登记簿信息副本。',
  'footer.announced': '公共登记簿现在公布的见证方与本页面信任的不同。本页面继续按自己的信任设置核验；登记簿的公布内容已作为证据保存在本浏览器中。',

  'title.idle': '可以开始核验',
  'title.working': '正在核验…',
  'title.verified': '已验证',
  'title.verified-unchecked': '已验证——但未能检查是否已撤销',
  'title.revoked': '已撤销',
  'title.not-found': '未找到',
  'title.invalid': '无效',
  'title.unavailable': '无法核验',

  'reason.loading': '正在加载核验程序…',
  'reason.idle': '请选择文件或回执，或粘贴指纹，然后点击“核验”。',
  'reason.hashing': '正在本机计算文件指纹…',
  'reason.hashing-pct': '正在本机计算文件指纹… {pct}%',
  'reason.looking': '正在查询指纹并核对证明…',
  'reason.looking-name': '正在查询记录并核对证明…',
  'reason.receipt': '正在核对回执…',
  'reason.bad-digest': '这不是有效的指纹：请输入 sha256: 加 64 位十六进制字符。',
  'reason.bad-name': '请填写全部三项：签发机构、记录类型和记录编号。',
  'reason.verified': '{issuer} 登记了此文件且未撤销：两者均已对照经独立见证方确认的公共登记簿证明。',
  'reason.verified-name': '{issuer} 登记了此编号的记录且未撤销：两者均已对照公共登记簿证明。如需确认您手中的副本就是登记的文件，请将其拖放到上方：其指纹必须与此处显示的一致。',
  'reason.verified-receipt': '回执证明此记录由 {issuer} 登记，公共登记簿证明此记录未被撤销。',
  'reason.verified-offline': '回执证明此记录由 {issuer} 登记。',
  'reason.verified-unindexed': '回执证明此记录由 {issuer} 登记。',
  'reason.revoked': '{issuer} 已撤销此记录（撤销通知为公共登记簿第 {index} 号条目）。',
  'reason.revoked-name': '{issuer} 登记了此编号的记录，之后已撤销此记录（撤销通知为公共登记簿第 {index} 号条目）。',
  'reason.not-found': '公共登记簿中没有这份文件：已对照经独立见证方确认的登记簿（共 {entries}）证明。',
  'reason.name-not-found': '公共登记簿中没有 {issuer} 签发的、类型为“{kind}”、编号为“{id}”的记录：已对照经独立见证方确认的登记簿（共 {entries}）证明。',
  'reason.pending': '此文件刚刚登记，独立见证方尚未确认。请一分钟后再试。',
  'reason.pending-name': '此记录刚刚登记，独立见证方尚未确认。请一分钟后再试。',
  'reason.receipt-mismatch': '此文件不是该回执所对应的文件。',
  'reason.receipt-digest-mismatch': '您输入的指纹不是该回执所对应的指纹。',
  'reason.wrong-digest': '公共登记簿返回的是另一份文件的记录。',
  'reason.untrusted': '公共登记簿当前的状态没有登记簿本身和足够多独立见证方的有效签名。',
  'reason.policy-changed': '公共登记簿现在显示的状态未经本页面信任的独立见证方签署，并公布了其他见证方：它可能在向您展示另一段历史。其显示的任何内容都不可依赖；证据保存在“专业信息”中。',
  'reason.untrusted-now': '回执证明此记录由 {issuer} 登记，但公共登记簿现在显示的状态未经本页面信任的独立见证方签署，因此无法检查此记录是否仍然有效。证据保存在“专业信息”中。',
  'reason.no-policy': '本页面旁没有可读取的信任策略（文件“policy”），因此无法核验任何内容。',
  'reason.bad-signature': '该记录并非使用本页面可以信任的该机构密钥签名：该密钥未由机构在此公共登记簿登记，或不是本页面信任的密钥。',
  'reason.not-included': '证明无法表明此记录在公共登记簿中。',
  'reason.bad-tiles': '公共登记簿的数据与其自身签署的状态不符。',
  'reason.malformed': '回执或公共登记簿的应答已损坏或格式不符。',
  'reason.rollback': '公共登记簿行为异常：它显示的状态比此前向本浏览器显示过的更旧。',
  'reason.fork': '公共登记簿行为异常：它向本浏览器展示了两段不可能同时成立的历史。',
  'reason.bad-index-proof': '公共登记簿就此次查询所持内容给出的证明核对不通过：登记簿行为异常。',
  'reason.unreachable': '无法访问公共登记簿，或其应答已损坏；请稍后再试。',
  'reason.untrusted-key': '就本页面所能判断，此记录并非 {issuer} 的记录：它使用密钥 {key} 签名，该密钥由公共登记簿运营方单方面于 {time} 在第 {at} 号条目为 {issuer} 登记，且不是本页面为 {issuer} 信任的密钥。',
  'reason.untrusted-key-cosigned': '就本页面所能判断，此记录并非 {issuer} 的记录：它使用密钥 {key} 签名，该密钥由公共登记簿运营方于 {time} 在第 {at} 号条目为 {issuer} 登记，并经该机构的密钥 {by} 确认，但不是本页面为 {issuer} 信任的密钥。',
  'reason.key-compromised': '此记录（第 {index} 号条目）并非 {issuer} 的记录：其密钥 {key} 已于 {time}（第 {at} 号条目）被宣布泄露，自第 {from} 号条目起的所有记录均无效。第 {from} 号条目之前登记的记录仍然有效。',
  'reason.key-retired': '此记录（第 {index} 号条目）并非 {issuer} 的记录：其密钥 {key} 已于 {time}（第 {at} 号条目）停用，自第 {from} 号条目起的所有记录均无效。第 {from} 号条目之前登记的记录仍然有效。',
  'reason.agency-unchecked': '回执证明此记录在公共登记簿中，但无法检查它是否由 {issuer} 的密钥签名：目前无法访问公共登记簿，本页面没有自己信任的密钥，本浏览器此前也未核对过 {issuer} 的密钥。请在可以访问登记簿时再次核验。',
  'reason.agency-unindexed': '回执证明此记录在公共登记簿中，但登记簿尚未完成索引，因此暂时无法检查它是否由 {issuer} 的密钥签名。请一分钟后再次核验。',
  'reason.no-agency-keys': '无法检查此记录的机构密钥：公共登记簿尚未证明该机构截至此处的密钥。请一分钟后再次核验。',
  'reason.no-wasm': '页面的 WebAssembly 组件缺失或加载失败（请运行 scripts/build-page）。',
  'reason.unexpected': '发生意外错误；技术细节见“专业信息”。',
  'reason.link-bad-character': '此链接中的回执已损坏：第 {position} 个字符“{char}”不可能出现在回执链接中。请重新获取链接，或使用回执文件。',
  'reason.link-bad-length': '此链接中的回执不完整：{length} 个字符无法构成完整的回执。请重新获取链接，或使用回执文件。',
  'reason.link-too-large': '此链接中的回执过大，不可能是回执（{bytes}；最多 {max}）。请重新获取链接，或使用回执文件。',
  'reason.link-empty': '此链接含有“#receipt=”，但其后没有回执。请重新获取链接，或使用回执文件。',
  'reason.link-not-receipt': '此链接携带的 {bytes} 数据不是回执（回执以“c2sp.org/tlog-proof@v1”开头）。请重新获取链接，或使用回执文件。',

  'note.one-byte': '哪怕只差一个字节的副本（重新保存、重新扫描、转换格式或经过编辑）指纹都不同，因而查不到。所以“未找到”可能只是说明这份文件本身没有登记：请使用您收到的原始文件或其回执，或按记录编号查找。',
  'note.one-byte-receipt': '哪怕只差一个字节的副本（重新保存、重新扫描、转换格式或经过编辑）指纹都与登记的文件不同。',
  'note.name-not-found': '请严格按文件上所写核对签发机构、记录类型和编号：一个字符不同就是另一个编号。',
  'caveat.offline': '未能检查此记录是否已被撤销：目前无法访问公共登记簿。本浏览器上次核对之后机构密钥的变更也无法获知。依赖此记录前请稍后再次核验。',
  'caveat.unindexed': '暂时未能检查此记录是否已被撤销：公共登记簿尚未完成索引。依赖此记录前请一分钟后再次核验。',

  'field.issuer': '签发机构',
  'field.kind': '记录类型',
  'field.id': '记录编号',
  'field.issued': '签发时间',
  'field.index': '在公共登记簿中的条目编号',
  'field.size': '核验时登记簿的条目数',
  'field.age': '见证方最近确认',
  'field.digest': '文件指纹',
  'field.witnesses': '独立确认',
  'field.revoked': '撤销',
  'field.key': '机构签名密钥',
  'key.registered': '{key}，由公共登记簿运营方于 {time} 在第 {at} 号条目登记。',
  'key.registered-cosigned': '{key}，由公共登记簿运营方于 {time} 在第 {at} 号条目登记，并经该机构的密钥 {by} 确认。',
  'key.also-pinned': '它是本页面信任的密钥之一。',
  'key.pinned': '本页面信任的密钥之一（未经公共登记簿核对）。',
  'key.compromised': '已于 {time} 被宣布泄露，自第 {from} 号条目起的记录无效。',
  'key.retired': '已于 {time} 停用，自第 {from} 号条目起的记录无效。',
  'size.one': '{count} 条',
  'size.other': '{count} 条',
  'witnesses.one': '{count}个独立见证方已确认（{names}）',
  'witnesses.other': '{count}个独立见证方已确认（{names}）',
  'list.separator': '、',
  'witness': '{name}，确认于 {time}',
  'revoked.value': '于 {issued} 由公共登记簿第 {index} 号条目的撤销通知撤销',

  'share.button': '复制此次核验的链接',
  'share.label': '此次核验的链接',
  'share.copied': '链接已复制。打开链接的人会在自己的浏览器中重新进行此次核验。',
  'share.select': '请复制上方的链接（此浏览器不允许页面自动复制）。',
  'share.receipt': '回执位于链接的“#”之后，浏览器从不会将这部分发送给任何服务器。',

  'details.summary': '专业信息',
  'details.origin': '日志标识（origin）',
  'details.kind': '类型（签名原文）',
  'details.issued': '签发时间（RFC 3339，签名原文）',
  'details.index': '日志条目（叶子索引）',
  'details.revoked': '撤销条目（叶子索引，签名原文中的签发时间）',
  'details.size': '检查点规模（树大小）',
  'details.cosignatures': '联署（见证方、Unix 时间、UTC）',
  'details.note': '检查点（签名文本）',
  'details.root': '根哈希',
  'details.inclusion': '包含证明',
  'details.consistency': '一致性证明',
  'details.revocation': '撤销：签名记录及包含证明',
  'details.tiles': '已获取的瓦片',
  'details.fields': '记录的其他字段',
  'details.others': '此文件的其他记录',
  'details.key': '记录的密钥（机构登记）',
  'details.key-registered': '登记于第 {at} 号条目（{time}），自第 {from} 号条目起有效',
  'details.key-operator': '仅由日志运营方登记',
  'details.key-cosigned': '由日志运营方登记，并由该机构的密钥 {by} 联署',
  'details.key-pinned': '本页面固定信任',
  'details.key-compromised': '于第 {at} 号条目（{time}）被宣布泄露：自第 {from} 号条目起无效',
  'details.key-retired': '于第 {at} 号条目（{time}）停用：自第 {from} 号条目起无效',
  'details.registry': '机构密钥历史（已在本浏览器中验证的登记条目）',
  'details.registry-problem': '第 {index} 号条目被忽略：{message}',
  'details.index-proof': '日志的索引证明（已在本浏览器中验证）',
  'details.latest': '日志的最新检查点（现已被本浏览器信任）',
  'details.error': '技术信息',
  'details.evidence': '证据（已保存在本浏览器中）',
  'details.replaced': '已替换本机保存的检查点',
  'details.announced': '日志公布的策略（不予信任）',
  'details.empty': '无',

  'details.issuer': '签发机构（密钥名称，签名原文）',
  'details.names': '未使用的显示名称（本页面旁的文件“names”）',
  'footer.names-bad': '无法读取本页面旁的显示名称（文件“names”），因此签发机构以其密钥名称显示：{problem}',

  'certificate.button': '存证证书',
  'certificate.print': '打印或另存为 PDF',
  'certificate.back': '返回',
  'certificate.label': '存证证书',
  'cert.title': '存证证书',
  'cert.intro': '本记录已在网页浏览器中对照公共登记簿核验，依据的是打印本证书的页面的信任策略。',
  'cert.status': '核验结果',
  'cert.checked': '核验时间',
  'cert.agency': '签发机构',
  'cert.kind': '记录类型',
  'cert.id': '记录编号',
  'cert.digest': '文件指纹（SHA-256）',
  'cert.issued': '签发时间',
  'cert.log': '公共登记簿及条目',
  'cert.entry': '第 {index} 号条目',
  'cert.checkpoint': '经见证的登记簿状态',
  'cert.root': '根哈希',
  'cert.witnesses': '独立见证方联署',
  'cert.scan': '扫码在线核验此记录；链接中的回执不会发送到任何服务器。',
  'cert.no-qr': '此次核验的链接过长，无法生成二维码：请使用回执文件在线核验此记录。',
};

// Small counts in words: "Three independent witnesses…".
const NUMBER_WORDS = {
  en: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'],
  'zh-CN': ['零', '一', '两', '三', '四', '五', '六', '七', '八', '九', '十'],
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

/**
 * The display names the page's operator gives (the `names` file beside
 * index.html, parsed by the bundle's `parseNames`): `{agency: {<key name>:
 * {en, 'zh-CN'}}, kind: {<token>: {en, 'zh-CN'}}}`. Cosmetic only: records
 * are checked by key, and the key names stay visible under "For experts".
 */
let NAMES = { agency: {}, kind: {} };

/** Uses `names` (from `parseNames`) from now on; null for none. */
export function setNames(names) {
  NAMES = { agency: names?.agency ?? {}, kind: names?.kind ?? {} };
}

const otherLang = () => (lang === 'en' ? 'zh-CN' : 'en');

/**
 * An agency by its display name in the current language, else in the
 * other one, else its key name (what records carry).
 */
export const agencyName = (key) => NAMES.agency[key]?.[lang] ?? NAMES.agency[key]?.[otherLang()] ?? key;

/**
 * A record kind by its name in the current language, else in the other
 * one (the operator's names over the core's built-in ones, as parsed);
 * unknown kinds as signed.
 */
export const kindName = (kind) => NAMES.kind[kind]?.[lang] ?? NAMES.kind[kind]?.[otherLang()] ?? kind;

/** Every kind with a name. */
const namedKinds = () => Object.keys(NAMES.kind);

/** Whether `text` is one of `names`' names, in either language, case aside. */
const isNameIn = (names, folded) => Object.values(names ?? {}).some((n) => n.toLowerCase() === folded);

/** The kind a person typed: a kind as signed, or its name in either language. */
export function kindFromName(text) {
  const wanted = text.trim();
  const folded = wanted.toLowerCase();
  const found = namedKinds()
    .find((kind) => kind === folded || isNameIn(NAMES.kind[kind], folded));
  return found ?? wanted;
}

/** The agency a person typed: a key name, or its display name in either language. */
export function agencyFromName(text) {
  const wanted = text.trim();
  if (wanted in NAMES.agency) return wanted;
  const folded = wanted.toLowerCase();
  const found = Object.keys(NAMES.agency).find((key) => isNameIn(NAMES.agency[key], folded));
  return found ?? wanted;
}

/** The known kinds, `[kind, name]`, for a list of suggestions. */
export const knownKinds = () => namedKinds().map((kind) => [kind, kindName(kind)]);

/**
 * Runs `fn` with `tag` as the language (for the bilingual certificate),
 * then restores the reader's choice.
 */
export function inLang(tag, fn) {
  const kept = lang;
  lang = tag;
  try { return fn(); } finally { lang = kept; }
}

/** `n` in words when small ("Three"), else in digits; capitalised for a sentence's start. */
export function countWords(n) {
  const word = NUMBER_WORDS[lang][n] ?? formatCount(n);
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** `key.one` or `key.other` for `count`, filled with the formatted count. */
export function plural(key, count, params = {}) {
  const form = new Intl.PluralRules(lang).select(count) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { count: formatCount(count), ...params });
}

/** A list of names: "w1, w2, w3" / "w1、w2、w3". */
export const formatList = (names) => names.join(t('list.separator'));

/** The browser's UTC offset at `when`: "UTC+8", "UTC-5:30", "UTC". */
function utcOffset(when) {
  const zone = new Intl.DateTimeFormat('en', { timeZoneName: 'shortOffset' })
    .formatToParts(when).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const offset = zone.replace(/^(GMT|UTC)/, '');
  return /^[+-]?0?$/.test(offset) ? 'UTC' : `UTC${offset}`;
}

/**
 * A moment in the reader's local time with its UTC offset:
 * "2 November 2026, 17:30 (UTC+8)" / "2026年11月2日 17:30（UTC+8）". Month in
 * words and a 24-hour clock, so no order of day and month is ambiguous.
 */
function formatMoment(when) {
  const zh = lang === 'zh-CN';
  const date = new Intl.DateTimeFormat(zh ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric' })
    .format(when);
  const time = new Intl.DateTimeFormat(zh ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(when);
  return zh ? `${date} ${time}（${utcOffset(when)}）` : `${date}, ${time} (${utcOffset(when)})`;
}

/** A Unix time in seconds, in local time with its UTC offset. */
export const formatUnix = (seconds) => formatMoment(new Date(seconds * 1000));

/** A record's RFC 3339 `issued` time in local time (as given if unparsable). */
export function formatIssued(text) {
  const when = new Date(text);
  return Number.isNaN(when.getTime()) ? text : formatMoment(when);
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
