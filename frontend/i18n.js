// Translations (English and Simplified Chinese) and the current language.
//
// t("key", {name: "Ada"}) looks the key up in the current language, falls back to English,
// and fills {name}-style placeholders. Reading `lang.value` inside t() makes every component
// that renders text re-render when the language changes.

import { signal, effect } from "@preact/signals";

const STORAGE_KEY = "hallserver.lang";

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "zh-Hans", label: "简体中文" },
];

const en = {
  "app.name": "Hallserver",
  "app.loading": "Loading…",
  "app.skip": "Skip to content",
  "nav.lobby": "Lobby",
  "nav.main": "Main",
  "lang.label": "Language",

  "conn.connecting": "Connecting…",
  "conn.open": "Connected",
  "conn.reconnecting": "Reconnecting…",
  "conn.closed": "Offline",
  "conn.label": "Connection: {state}",

  "user.login": "Log in",
  "user.logout": "Log out",
  "user.signed_in_as": "Signed in as {name}",
  "user.kind.guest": "Guest",
  "user.kind.visitor": "Visitor",
  "user.kind.exhibitor": "Exhibitor",
  "user.kind.moderator": "Moderator",

  "lobby.halls": "Halls",
  "lobby.all_halls": "All halls",
  "lobby.booth_count": "{n} booths",
  "lobby.booth_count_one": "1 booth",
  "lobby.booths": "Booths",
  "lobby.booths_in": "Booths in {hall}",
  "lobby.search": "Search booths",
  "lobby.search_placeholder": "Name, tag, country…",
  "lobby.kind_filter": "Kind",
  "lobby.kind_any": "Any kind",
  "lobby.results": "{n} booths found",
  "lobby.results_one": "1 booth found",
  "lobby.no_results": "No booth matches your search.",
  "lobby.no_booths": "This hall has no booths yet.",
  "lobby.here_now": "{n} here now",
  "lobby.here_now_label": "Visitors at this booth right now",
  "lobby.roadshows": "Roadshows",
  "lobby.live_now": "Live now",
  "lobby.today": "Later today",
  "lobby.no_roadshows": "No roadshows today.",
  "lobby.by": "by {name}",
  "lobby.at_booth": "at {booth}",
  "lobby.dates": "{start} – {end}",
  "lobby.loading_booths": "Loading booths…",

  "kind.company": "Company",
  "kind.university": "University",
  "kind.investor": "Investor",
  "kind.institute": "Research institute",

  "roadshow.state.scheduled": "Scheduled",
  "roadshow.state.live": "Live",
  "roadshow.state.ended": "Ended",

  "booth.back": "Back to the lobby",
  "booth.about": "About",
  "booth.country": "Country",
  "booth.kind": "Kind",
  "booth.hall": "Hall",
  "booth.tags": "Tags",
  "booth.links": "Links",
  "booth.staff": "Staff",
  "booth.no_staff": "No staff listed.",
  "booth.roadshows": "Roadshows",
  "booth.not_found": "This booth does not exist.",
  "booth.logo_alt": "{name} logo",

  "chat.title": "Chat",
  "chat.log_label": "Chat messages",
  "chat.empty": "No messages yet. Say hello!",
  "chat.load_older": "Load earlier messages",
  "chat.loading_older": "Loading earlier messages…",
  "chat.beginning": "This is the beginning of the conversation.",
  "chat.input_label": "Your message",
  "chat.placeholder": "Write a message… (Enter to send, Shift+Enter for a new line)",
  "chat.send": "Send",
  "chat.sending": "Sending…",
  "chat.counter": "{n} / {max} characters",
  "chat.too_long_hint": "{n} characters too many",
  "chat.anonymous": "You are watching anonymously. To chat, {link}.",
  "chat.anonymous_link": "log in or enter as a guest",
  "chat.read_only": "This chat is read-only.",
  "chat.offline": "You are offline; messages can be sent again once reconnected.",
  "chat.new_messages": "New messages below",
  "chat.staff": "Staff",
  "chat.you": "you",
  "chat.reset": "Many messages were missed while offline; the chat was reloaded.",

  "presence.title": "Who's here",
  "presence.count": "{n} here",
  "presence.count_label": "People in this booth",
  "presence.staff": "Staff",
  "presence.more": "The list is too long to show every name.",
  "presence.show": "Show who's here",
  "presence.empty": "Nobody else is here.",
  "presence.anonymous": "+ {n} watching without signing in",

  "login.title": "Welcome",
  "login.intro": "Log in with your account, or enter as a guest with a display name.",
  "login.account": "Log in",
  "login.username": "Username",
  "login.password": "Password",
  "login.submit": "Log in",
  "login.guest": "Enter as a guest",
  "login.guest_name": "Display name",
  "login.guest_hint": "Shown to others in the chat (1–40 characters).",
  "login.guest_submit": "Enter as a guest",
  "login.already": "You are signed in as {name}.",
  "login.continue": "Continue",
  "login.working": "Please wait…",

  "notfound.title": "Page not found",
  "notfound.text": "There is nothing at this address.",

  "error.generic": "Something went wrong: {message}",
  "error.load": "Could not load the data. {message}",
  "error.retry": "Try again",
  "error.dismiss": "Dismiss",
  "error.frame.malformed": "The server could not read the request.",
  "error.frame.too_large": "The message is too large.",
  "error.frame.invalid": "The request was not valid.",
  "error.action.unknown": "The server does not know this action.",
  "error.auth.required": "Please log in or enter as a guest first.",
  "error.room.not_found": "This room does not exist.",
  "error.room.forbidden": "You may not enter this room.",
  "error.room.not_joined": "You are not in this room (any more). Reload the page.",
  "error.room.too_many": "You are in too many rooms at once. Close some pages and try again.",
  "error.room.read_only": "This chat is read-only at the moment.",
  "error.chat.empty": "The message is empty.",
  "error.chat.too_long": "The message is too long.",
  "error.server.error": "The server had a problem. Please try again.",
  "error.client.timeout": "The server did not answer in time. Please try again.",
  "error.client.disconnected": "The connection was lost before the server answered.",
  "error.client.closed": "The connection is closed.",
  "error.auth.invalid": "Wrong username or password.",
  "error.guest.invalid_name": "Please enter a display name of 1 to 40 characters.",
  "error.http": "The server answered with an error ({status}).",
  "error.network": "The server could not be reached.",
};

const zh = {
  "app.name": "Hallserver",
  "app.loading": "加载中…",
  "app.skip": "跳到主要内容",
  "nav.lobby": "大厅",
  "nav.main": "主导航",
  "lang.label": "语言",

  "conn.connecting": "正在连接…",
  "conn.open": "已连接",
  "conn.reconnecting": "正在重新连接…",
  "conn.closed": "离线",
  "conn.label": "连接状态：{state}",

  "user.login": "登录",
  "user.logout": "退出登录",
  "user.signed_in_as": "当前用户：{name}",
  "user.kind.guest": "访客",
  "user.kind.visitor": "观众",
  "user.kind.exhibitor": "参展商",
  "user.kind.moderator": "管理员",

  "lobby.halls": "展馆",
  "lobby.all_halls": "全部展馆",
  "lobby.booth_count": "{n} 个展位",
  "lobby.booths": "展位",
  "lobby.booths_in": "{hall}的展位",
  "lobby.search": "搜索展位",
  "lobby.search_placeholder": "名称、标签、国家…",
  "lobby.kind_filter": "类型",
  "lobby.kind_any": "全部类型",
  "lobby.results": "找到 {n} 个展位",
  "lobby.no_results": "没有符合条件的展位。",
  "lobby.no_booths": "该展馆暂无展位。",
  "lobby.here_now": "{n} 人在线",
  "lobby.here_now_label": "此展位当前在线人数",
  "lobby.roadshows": "路演",
  "lobby.live_now": "正在直播",
  "lobby.today": "今日稍后",
  "lobby.no_roadshows": "今天没有路演。",
  "lobby.by": "主讲：{name}",
  "lobby.at_booth": "展位：{booth}",
  "lobby.dates": "{start} – {end}",
  "lobby.loading_booths": "正在加载展位…",

  "kind.company": "企业",
  "kind.university": "高校",
  "kind.investor": "投资机构",
  "kind.institute": "科研院所",

  "roadshow.state.scheduled": "未开始",
  "roadshow.state.live": "直播中",
  "roadshow.state.ended": "已结束",

  "booth.back": "返回大厅",
  "booth.about": "简介",
  "booth.country": "国家/地区",
  "booth.kind": "类型",
  "booth.hall": "展馆",
  "booth.tags": "标签",
  "booth.links": "链接",
  "booth.staff": "工作人员",
  "booth.no_staff": "暂无工作人员信息。",
  "booth.roadshows": "路演",
  "booth.not_found": "该展位不存在。",
  "booth.logo_alt": "{name} 的标志",

  "chat.title": "聊天",
  "chat.log_label": "聊天消息",
  "chat.empty": "还没有消息，来打个招呼吧！",
  "chat.load_older": "加载更早的消息",
  "chat.loading_older": "正在加载更早的消息…",
  "chat.beginning": "以上是全部聊天记录。",
  "chat.input_label": "你的消息",
  "chat.placeholder": "输入消息…（Enter 发送，Shift+Enter 换行）",
  "chat.send": "发送",
  "chat.sending": "发送中…",
  "chat.counter": "{n} / {max} 字",
  "chat.too_long_hint": "超出 {n} 字",
  "chat.anonymous": "你正在匿名浏览。如需聊天，请{link}。",
  "chat.anonymous_link": "登录或以访客身份进入",
  "chat.read_only": "此聊天室当前为只读。",
  "chat.offline": "你已离线，重新连接后即可发送消息。",
  "chat.new_messages": "下方有新消息",
  "chat.staff": "工作人员",
  "chat.you": "我",
  "chat.reset": "离线期间错过的消息过多，聊天记录已重新加载。",

  "presence.title": "在线的人",
  "presence.count": "{n} 人在线",
  "presence.count_label": "此展位的在线人数",
  "presence.staff": "工作人员",
  "presence.more": "人数过多，无法显示全部名字。",
  "presence.show": "查看在线的人",
  "presence.empty": "暂时没有其他人。",
  "presence.anonymous": "另有 {n} 位未登录的观众",

  "login.title": "欢迎",
  "login.intro": "使用账号登录，或填写显示名称以访客身份进入。",
  "login.account": "账号登录",
  "login.username": "用户名",
  "login.password": "密码",
  "login.submit": "登录",
  "login.guest": "以访客身份进入",
  "login.guest_name": "显示名称",
  "login.guest_hint": "聊天时向其他人显示（1–40 个字符）。",
  "login.guest_submit": "以访客身份进入",
  "login.already": "你已登录为 {name}。",
  "login.continue": "继续",
  "login.working": "请稍候…",

  "notfound.title": "页面不存在",
  "notfound.text": "此地址没有内容。",

  "error.generic": "出错了：{message}",
  "error.load": "无法加载数据。{message}",
  "error.retry": "重试",
  "error.dismiss": "关闭",
  "error.frame.malformed": "服务器无法读取该请求。",
  "error.frame.too_large": "消息太大。",
  "error.frame.invalid": "请求无效。",
  "error.action.unknown": "服务器不支持该操作。",
  "error.auth.required": "请先登录或以访客身份进入。",
  "error.room.not_found": "该房间不存在。",
  "error.room.forbidden": "你无权进入该房间。",
  "error.room.not_joined": "你已不在该房间中，请刷新页面。",
  "error.room.too_many": "同时进入的房间过多，请关闭部分页面后重试。",
  "error.room.read_only": "此聊天室当前为只读。",
  "error.chat.empty": "消息不能为空。",
  "error.chat.too_long": "消息太长。",
  "error.server.error": "服务器出现问题，请重试。",
  "error.client.timeout": "服务器未及时响应，请重试。",
  "error.client.disconnected": "服务器响应前连接已断开。",
  "error.client.closed": "连接已关闭。",
  "error.auth.invalid": "用户名或密码错误。",
  "error.guest.invalid_name": "请输入 1 到 40 个字符的显示名称。",
  "error.http": "服务器返回错误（{status}）。",
  "error.network": "无法连接到服务器。",
};

const TABLES = { en, "zh-Hans": zh };

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && TABLES[saved]) return saved;
  } catch {
    /* storage may be unavailable (privacy mode) */
  }
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    if (!tag) continue;
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-Hans";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

/** The current language code: "en" or "zh-Hans". */
export const lang = signal(initialLanguage());

effect(() => {
  document.documentElement.lang = lang.value;
});

export function setLanguage(code) {
  if (!TABLES[code]) return;
  lang.value = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    /* ignore */
  }
}

export function isChinese() {
  return lang.value === "zh-Hans";
}

/**
 * Translate `key`, filling {placeholders} from `params`. With `params.n === 1` a `key_one`
 * variant is used where the language has one (English singulars; Chinese needs none).
 */
export function t(key, params) {
  const table = TABLES[lang.value] || en;
  let text;
  if (params?.n === 1) text = table[`${key}_one`];
  text ??= table[key] ?? en[key];
  if (text === undefined) {
    console.warn(`hallserver: missing translation ${key}`);
    return key;
  }
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) =>
      name in params ? String(params[name]) : whole,
    );
  }
  return text;
}

/** Whether a translation exists for `key` (in English at least). */
export function hasText(key) {
  return key in en;
}

/** The name of a hall or booth in the current language (name_zh when Chinese and set). */
export function localName(obj) {
  if (!obj) return "";
  if (isChinese() && obj.name_zh) return obj.name_zh;
  return obj.name || "";
}

/** A readable, translated message for an error (ProtocolError, ApiError or anything else). */
export function errorText(err) {
  if (!err) return "";
  if (err.code && hasText(`error.${err.code}`)) return t(`error.${err.code}`);
  if (err.status) return t("error.http", { status: err.status });
  return t("error.generic", { message: err.message || String(err) });
}

/** Country name for an ISO 3166-1 alpha-2 code, in the current language. */
export function countryName(code) {
  if (!code) return "";
  try {
    const names = new Intl.DisplayNames([lang.value], { type: "region" });
    return names.of(code.toUpperCase()) || code;
  } catch {
    return code;
  }
}

export function formatTime(unixSeconds) {
  const d = new Date(unixSeconds * 1000);
  return new Intl.DateTimeFormat(lang.value, { hour: "2-digit", minute: "2-digit" }).format(d);
}

export function formatDateTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(lang.value, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}

export function formatClock(value) {
  const d = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(lang.value, { hour: "2-digit", minute: "2-digit" }).format(d);
}

/** Both tables, for the consistency check in tests. */
export const _tables = TABLES;
