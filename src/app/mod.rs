//! The inspector's state and the one place it changes: [`App::update`]. No terminal, no I/O:
//! inputs arrive as [`Action`]s, requests for the outside world leave as [`Effect`]s.

pub mod keymap;

use crate::delivery::Delivery;
use crate::forward::RespondMode;
use crate::highlight::{self, BodyView, Limits};
use crate::sanitize;
use crate::verify::{Verdict, human_bytes};
use bytes::Bytes;
use keymap::Command;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use std::collections::VecDeque;
use std::sync::Arc;
use time::UtcOffset;

/// Everything that can change the state.
#[derive(Debug, Clone)]
pub enum Action {
    /// New deliveries, oldest first.
    Deliveries(Vec<Arc<Delivery>>),
    /// Deliveries from earlier sessions (from the store), oldest first; sent before any new ones.
    Earlier(Vec<Arc<Delivery>>),
    /// A delivery asked for with [`Effect::Load`], in full (`None`: no longer stored).
    Loaded {
        /// The store id.
        id: u64,
        /// The delivery with its headers and body, or why the store could not give it.
        delivery: Result<Option<Arc<Delivery>>, String>,
    },
    /// Store ids whose bodies contain the filter text, answering [`Effect::Search`].
    SearchResults {
        /// The filter text searched (lower-case).
        query: String,
        /// Matching store ids, or why the store could not be searched.
        ids: Result<Vec<u64>, String>,
    },
    /// A key was pressed.
    Key(KeyEvent),
    /// The mouse did something.
    Mouse(MouseEvent),
    /// The terminal has a new size.
    Resize(u16, u16),
    /// Time passed; milliseconds since the Unix epoch.
    Tick(i64),
    /// The tunnel's public URL was found (or lost).
    Tunnel(Option<String>),
    /// Deliveries whose answer is still to be given, waiting for the app (`--forward-to`) or
    /// held by the answer mode's delay: how many of each, and the oldest's whole seconds.
    Unanswered(crate::forward::Pending),
    /// A copy finished: what to tell the user.
    Copied(String),
    /// A re-send of the failing messages ([`Effect::ResendFailing`]) ended: what to tell.
    Resent(String),
    /// Text was pasted (bracketed paste): it is searched for, never read as keys.
    Paste(String),
    /// A command, as from a key.
    Command(Command),
}

/// Something the outside world must do for the app.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Put text on the clipboard; `what` describes it for the status line.
    Copy {
        /// The text.
        text: String,
        /// `event id evt_…`, `payload (1.2 KiB)`, …
        what: String,
    },
    /// Read a delivery in full from the store; answer with [`Action::Loaded`].
    Load {
        /// The store id.
        id: u64,
    },
    /// Find stored bodies containing text; answer with [`Action::SearchResults`].
    Search {
        /// Lower-case text.
        query: String,
    },
    /// Re-send a delivery (in full); the replay arrives as a new delivery.
    Replay {
        /// The delivery to re-send.
        delivery: Arc<Delivery>,
        /// Re-sign it with a fresh timestamp first.
        resign: bool,
    },
    /// Open the body in the user's editor, then send what it leaves signed as a new message;
    /// it arrives as a new delivery, a replay of this one.
    Edit {
        /// The delivery whose body is edited (in full).
        delivery: Arc<Delivery>,
    },
    /// Copy a curl command re-sending the delivery re-signed.
    CopyResignedCurl {
        /// The delivery.
        delivery: Arc<Delivery>,
    },
    /// Switch what the sender is answered.
    SetMode(RespondMode),
    /// Re-send these deliveries, oldest first, one at a time (each re-signed where a secret
    /// applies to its path, else as received); answer with [`Action::Resent`]. Light ones
    /// (store ids) are read in full first.
    ResendFailing {
        /// The newest delivery of each message still failing.
        deliveries: Vec<Arc<Delivery>>,
    },
    /// Stop the re-send under way once the delivery being sent is answered; it still ends
    /// with [`Action::Resent`].
    StopResending,
}

impl PartialEq for Effect {
    // Deliveries compare by identity (their sequence number): enough to say which one.
    fn eq(&self, other: &Self) -> bool {
        use Effect as E;
        match (self, other) {
            (E::Copy { text: a, what: b }, E::Copy { text: c, what: d }) => a == c && b == d,
            (E::Load { id: a }, E::Load { id: b }) => a == b,
            (E::Search { query: a }, E::Search { query: b }) => a == b,
            (
                E::Replay {
                    delivery: a,
                    resign: r,
                },
                E::Replay {
                    delivery: b,
                    resign: s,
                },
            ) => a.seq == b.seq && r == s,
            (E::CopyResignedCurl { delivery: a }, E::CopyResignedCurl { delivery: b })
            | (E::Edit { delivery: a }, E::Edit { delivery: b }) => a.seq == b.seq,
            (E::SetMode(a), E::SetMode(b)) => a == b,
            (E::StopResending, E::StopResending) => true,
            (E::ResendFailing { deliveries: a }, E::ResendFailing { deliveries: b }) => {
                a.iter().map(|d| d.seq).eq(b.iter().map(|d| d.seq))
            }
            _ => false,
        }
    }
}

/// The detail tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Verdict, reason, ids, times.
    Overview,
    /// All headers in order.
    Headers,
    /// The payload.
    Body,
    /// What hookscope answered.
    Response,
}

impl Tab {
    /// All tabs in order.
    pub const ALL: [Tab; 4] = [Tab::Overview, Tab::Headers, Tab::Body, Tab::Response];

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// How a delivery fared, for the list's mark and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Signature verified.
    Verified,
    /// Verification failed (401).
    Rejected,
    /// Not checked: no secret.
    Unverified,
    /// Refused before verifying: 405, 413, 400.
    Refused,
}

impl Mark {
    /// The symbol shown, so the list reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Verified => "✓",
            Mark::Rejected => "✗",
            Mark::Unverified => "•",
            Mark::Refused => "!",
        }
    }

    fn of(v: &Verdict) -> Mark {
        match v {
            Verdict::Verified(_) => Mark::Verified,
            Verdict::Failed(_) => Mark::Rejected,
            Verdict::Unchecked(u) if u.refused() => Mark::Refused,
            Verdict::Unchecked(_) => Mark::Unverified,
        }
    }
}

/// A delivery in the list. With a store, its delivery is light: no body and no headers (they
/// load on demand), so holding many costs little.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The delivery.
    pub delivery: Arc<Delivery>,
    /// Verdict mark.
    pub mark: Mark,
    /// From an earlier session (loaded from the store at start).
    pub earlier: bool,
    /// The app's own key for this entry, unique for the run.
    pub key: u64,
    /// Its body was let go to keep the bodies held in memory within [`App::body_budget`].
    pub body_dropped: bool,
}

impl Entry {
    /// Event type, or method and path when there is none (escaped).
    pub fn what(&self) -> std::borrow::Cow<'_, str> {
        let d = &self.delivery;
        match &d.event_type {
            Some(t) => sanitize::line(t),
            None => d.target(),
        }
    }

    /// Event id, else message id (escaped).
    pub fn id(&self) -> std::borrow::Cow<'_, str> {
        let d = &self.delivery;
        d.event_id
            .as_deref()
            .or(d.msg_id.as_deref())
            .map(sanitize::line)
            .unwrap_or_default()
    }

    /// `HH:MM:SS` at `offset`.
    /// When it arrived, local, in 8 columns: the time on `today` (or when the day is not
    /// known yet), else the day (`Nov 25`), or the month in another year (`2025-11`). A
    /// delivery kept from an earlier day must not read as one from this morning.
    pub fn time(&self, offset: UtcOffset, today: Option<time::Date>) -> String {
        let t = self.delivery.received_at.to_offset(offset);
        match today {
            Some(day) if t.date() != day && t.year() == day.year() => {
                const MONTHS: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                let month = MONTHS[usize::from(u8::from(t.month())) - 1];
                format!("{month} {:>2}", t.day())
            }
            Some(day) if t.date() != day => format!("{}-{:02}", t.year(), u8::from(t.month())),
            _ => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
        }
    }
}

/// What the header bar shows about the receiver.
#[derive(Debug, Clone, Default)]
pub struct Info {
    /// `http://127.0.0.1:8787`.
    pub listen: String,
    /// Masked secret labels.
    pub secrets: Vec<String>,
    /// The tunnel's public URL, when one forwards to us.
    pub tunnel: Option<String>,
    /// Where deliveries are forwarded (`--forward-to`).
    pub forward: Option<String>,
    /// Connections served at once and the open-files limit that held them below
    /// `--max-connections`, when it did.
    pub files_short: Option<(usize, u64)>,
}

/// Totals over every delivery seen (held or since dropped from memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Verified.
    pub verified: usize,
    /// Rejected.
    pub rejected: usize,
    /// Everything.
    pub total: usize,
}

/// Seconds of history in the rate sparkline.
pub const RATE_SECONDS: usize = 60;
const BODY_CACHE: usize = 16;
/// Default [`App::body_budget`]: 512 MiB of bodies held in memory.
pub const BODY_BUDGET: usize = 512 << 20;
const STATUS_MS: i64 = 4_000;

/// The inspector's whole state.
#[derive(Debug)]
pub struct App {
    /// Receiver facts for the header bar.
    pub info: Info,
    /// Every delivery held, oldest first.
    pub entries: Vec<Entry>,
    /// Indices into `entries` that pass the filters, ascending.
    pub view: Vec<usize>,
    /// The selected entry (index into `entries`).
    pub selected: Option<usize>,
    /// Whether the selection follows new deliveries.
    pub follow: bool,
    /// Matching deliveries that arrived since the user stopped following.
    pub unseen: usize,
    /// First list row shown (0 = newest).
    pub list_offset: usize,
    /// Whether the detail view is open.
    pub detail: bool,
    /// The detail tab.
    pub tab: Tab,
    /// Body shown as exact bytes rather than pretty.
    pub raw: bool,
    /// Detail scroll position in lines.
    pub scroll: usize,
    /// The filter text.
    pub filter: String,
    /// Whether keys are typing into the filter.
    pub editing_filter: bool,
    /// Only failures shown.
    pub failures_only: bool,
    /// Help overlay shown.
    pub help: bool,
    /// Lines the help is scrolled down, where the terminal is too short for it.
    pub help_scroll: usize,
    /// A transient message and when it expires (ms).
    pub status: Option<(String, i64)>,
    /// Totals.
    pub counts: Counts,
    /// Deliveries per second, oldest first, the last entry being the current second.
    pub rate: VecDeque<u64>,
    rate_second: i64,
    /// Milliseconds since the epoch, from the last tick.
    pub now_ms: i64,
    /// Terminal size.
    pub size: (u16, u16),
    /// Whether to use colour (off with NO_COLOR).
    pub color: bool,
    /// Local time offset for displayed times.
    pub offset: UtcOffset,
    bodies: VecDeque<(u64, bool, Arc<BodyView>)>,
    /// Deliveries loaded in full from the store (light entries lack body and headers).
    loaded: VecDeque<Arc<Delivery>>,
    /// A body asked for and not yet loaded.
    loading: Option<u64>,
    /// The last body the store could not give, and why: not asked for again until a command
    /// needs it (asking on every update would read the store in a loop while it is shown).
    unloadable: Option<(u64, String)>,
    /// A copy waiting for its body to load.
    pending_copy: Option<(u64, Command)>,
    next_key: u64,
    /// Most deliveries held in memory; older ones are dropped (the store keeps them).
    pub retain: usize,
    /// Whether held deliveries' bodies live in the store (loaded on demand) rather than here.
    pub bodies_in_store: bool,
    /// What the newest delivery was answered when the store could not keep it (503: a full
    /// disk), until one is stored again: shown in the header, since each such delivery is
    /// refused to its sender while the list still marks its verdict.
    pub store_trouble: Option<String>,
    /// Most bytes of bodies held in memory (with the store off, every body is held here):
    /// past it, the oldest held bodies are let go, their records kept. Without a bound, senders
    /// of large payloads could fill the memory well within `retain`.
    pub body_budget: usize,
    /// Bytes of bodies held in `entries`.
    held_bytes: usize,
    /// Entries before this index hold no body (let go, or never held).
    first_with_body: usize,
    /// How many held entries came from earlier sessions.
    pub earlier: usize,
    search_needed: Option<String>,
    /// What the sender is answered.
    pub mode: RespondMode,
    /// Deliveries whose answer is still to be given, not yet recorded: how many in each
    /// phase, and the oldest's whole seconds.
    pub unanswered: crate::forward::Pending,
    /// Entry keys by message id, oldest first: the attempts of one message.
    attempts: std::collections::HashMap<String, Vec<u64>>,
    /// A command asked for twice (`x`, `F`) and until when (ms) the second press does it.
    armed: Option<(Command, i64)>,
    /// Whether a re-send of the failing messages is under way (one at a time).
    pub resending: bool,
    /// Set when the user asked to quit.
    pub quit: bool,
}

impl App {
    /// An empty inspector.
    pub fn new(info: Info, color: bool, offset: UtcOffset) -> Self {
        App {
            info,
            entries: Vec::new(),
            view: Vec::new(),
            selected: None,
            follow: true,
            unseen: 0,
            list_offset: 0,
            detail: false,
            tab: Tab::Overview,
            raw: false,
            scroll: 0,
            filter: String::new(),
            editing_filter: false,
            failures_only: false,
            help: false,
            help_scroll: 0,
            status: None,
            counts: Counts::default(),
            rate: VecDeque::from(vec![0; RATE_SECONDS]),
            rate_second: 0,
            now_ms: 0,
            size: (80, 24),
            color,
            offset,
            bodies: VecDeque::new(),
            loaded: VecDeque::new(),
            loading: None,
            unloadable: None,
            pending_copy: None,
            next_key: 0,
            retain: crate::store::DEFAULT_RETAIN as usize,
            bodies_in_store: false,
            store_trouble: None,
            body_budget: BODY_BUDGET,
            held_bytes: 0,
            first_with_body: 0,
            earlier: 0,
            search_needed: None,
            mode: RespondMode::Normal,
            unanswered: crate::forward::Pending::default(),
            attempts: std::collections::HashMap::new(),
            armed: None,
            resending: false,
            quit: false,
        }
    }

    /// Applies one action; returns what the outside world must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = Vec::new();
        let effect = match action {
            Action::Deliveries(ds) => {
                self.add(ds, false);
                None
            }
            Action::Earlier(ds) => {
                self.add(ds, true);
                None
            }
            Action::Loaded { id, delivery } => self.loaded(id, delivery),
            Action::SearchResults { query, ids } => {
                self.search_results(&query, ids);
                None
            }
            Action::Key(key) => self.key(key),
            Action::Mouse(m) => {
                self.mouse(m);
                None
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.scroll_into_view();
                self.scroll = self.scroll.min(crate::ui::detail_max_scroll(self));
                None
            }
            Action::Tick(now_ms) => {
                self.tick(now_ms);
                None
            }
            Action::Tunnel(url) => {
                self.info.tunnel = url;
                None
            }
            Action::Unanswered(waiting) => {
                self.unanswered = waiting;
                None
            }
            Action::Copied(text) => {
                self.say(text);
                None
            }
            Action::Resent(text) => {
                self.resending = false;
                self.say(text);
                None
            }
            Action::Paste(text) => {
                self.paste(&text);
                None
            }
            Action::Command(c) => self.command(c),
        };
        effects.extend(effect);
        if let Some(query) = self.search_needed.take() {
            effects.push(Effect::Search { query });
        }
        effects.extend(self.prepare_body());
        effects
    }

    /// How many attempts the entry's message has, when it is the newest of several.
    pub fn attempt_badge(&self, e: &Entry) -> Option<usize> {
        let keys = self.attempts.get(e.delivery.msg_id.as_ref()?)?;
        (keys.len() > 1 && keys.last() == Some(&e.key)).then_some(keys.len())
    }

    /// Every held attempt of the entry's message, oldest first.
    pub fn attempts_of(&self, e: &Entry) -> Vec<&Entry> {
        let Some(keys) = e
            .delivery
            .msg_id
            .as_ref()
            .and_then(|id| self.attempts.get(id))
        else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|k| {
                let i = self.entries.binary_search_by_key(k, |e| e.key).ok()?;
                Some(&self.entries[i])
            })
            .collect()
    }

    /// Whether an entry's delivery lacks its body and headers (they are in the store).
    fn is_light(&self, e: &Entry) -> bool {
        self.bodies_in_store && e.delivery.stored
    }

    /// The delivery in full (headers and body) when at hand: held, or loaded from the store.
    pub fn full_of<'a>(&'a self, e: &'a Entry) -> Option<&'a Delivery> {
        if !self.is_light(e) {
            return Some(&e.delivery);
        }
        self.loaded
            .iter()
            .find(|d| d.seq == e.delivery.seq)
            .map(|d| d.as_ref())
    }

    /// The body of an entry when it is at hand.
    pub fn body_of<'a>(&'a self, e: &'a Entry) -> Option<&'a Bytes> {
        self.full_of(e).map(|d| &d.body)
    }

    fn loaded(
        &mut self,
        id: u64,
        delivery: Result<Option<Arc<Delivery>>, String>,
    ) -> Option<Effect> {
        if self.loading == Some(id) {
            self.loading = None;
        }
        let delivery = match delivery {
            Ok(Some(delivery)) => delivery,
            Ok(None) => {
                return self.unloaded(id, "is no longer in the store (pruned by retention)".into());
            }
            Err(e) => {
                let why = format!(
                    "could not be read from the store: {}",
                    crate::sanitize::line(&e)
                );
                return self.unloaded(id, why);
            }
        };
        if self.loaded.len() >= BODY_CACHE {
            self.loaded.pop_front();
        }
        self.loaded.push_back(delivery);
        match self.pending_copy.take() {
            Some((pending, command))
                if pending == id && self.selected_entry().map(|e| e.delivery.seq) == Some(id) =>
            {
                self.command(command)
            }
            other => {
                self.pending_copy = other;
                None
            }
        }
    }

    /// The store could not give delivery `id`: say why, and do not ask again by itself.
    fn unloaded(&mut self, id: u64, why: String) -> Option<Effect> {
        self.say(format!("delivery {id} {why}"));
        self.unloadable = Some((id, why));
        self.pending_copy = None;
        None
    }

    /// Asks for the selected body when it is not at hand; `true` when it is.
    fn need_body(&mut self, then: Option<Command>) -> (bool, Option<Effect>) {
        let Some(e) = self.selected_entry() else {
            return (false, None);
        };
        if e.body_dropped {
            if then.is_some() {
                let what = format!("{} body", human_bytes(e.delivery.body_size));
                self.say(format!(
                    "this delivery's {what} is no longer held: {}",
                    self.budget_hint()
                ));
            }
            return (false, None);
        }
        if self.body_of(e).is_some() {
            return (true, None);
        }
        let id = e.delivery.seq;
        if self.unloadable.as_ref().is_some_and(|(u, _)| *u == id) {
            if then.is_none() {
                // Shown, not asked for: the detail says why it is missing.
                return (false, None);
            }
            // A command asks again: the store may give it now.
            self.unloadable = None;
        }
        if let Some(c) = then {
            self.pending_copy = Some((id, c));
        }
        if self.loading == Some(id) {
            return (false, None);
        }
        self.loading = Some(id);
        (false, Some(Effect::Load { id }))
    }

    /// Why the store could not give this entry's body and headers, when it could not (`is no
    /// longer in the store …`, `could not be read from the store: …`).
    pub fn unloadable(&self, e: &Entry) -> Option<&str> {
        self.unloadable
            .as_ref()
            .filter(|(id, _)| *id == e.delivery.seq && self.is_light(e))
            .map(|(_, why)| why.as_str())
    }

    /// The selected entry.
    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selected.and_then(|i| self.entries.get(i))
    }

    /// The selected entry's list row (0 = newest).
    pub fn selected_row(&self) -> Option<usize> {
        let i = self.selected?;
        let pos = self.view.binary_search(&i).ok()?;
        Some(self.view.len() - 1 - pos)
    }

    /// The entry at list row `row` (0 = newest).
    pub fn entry_at_row(&self, row: usize) -> Option<(usize, &Entry)> {
        let pos = self.view.len().checked_sub(row + 1)?;
        let i = self.view[pos];
        Some((i, &self.entries[i]))
    }

    /// The prepared body of the selected delivery, if the Body tab needs it.
    pub fn body_view(&self) -> Option<&BodyView> {
        let key = self.selected_entry()?.key;
        self.bodies
            .iter()
            .find(|(k, raw, _)| *k == key && *raw == self.raw)
            .map(|(_, _, v)| v.as_ref())
    }

    fn say(&mut self, text: String) {
        self.status = Some((text, self.now_ms + STATUS_MS));
    }

    fn entry(&mut self, d: Arc<Delivery>, earlier: bool) -> Entry {
        self.next_key += 1;
        Entry {
            mark: Mark::of(&d.verdict),
            earlier,
            key: self.next_key,
            delivery: d,
            body_dropped: false,
        }
    }

    fn add(&mut self, ds: Vec<Arc<Delivery>>, earlier: bool) {
        let query = self.filter.to_lowercase();
        let mut new_matching = 0;
        for d in ds {
            if !earlier {
                self.count_rate(d.received_at.unix_timestamp());
                // With the store on, the receiver publishes a delivery unstored only when
                // committing it failed, and answers it 503 unless hyper had answered already
                // (a refused head: its answer is not the store's error).
                if self.bodies_in_store && (d.stored || d.response.status == 503) {
                    self.store_trouble = (!d.stored).then(|| d.response.said().to_string());
                }
            } else {
                self.earlier += 1;
            }
            let entry = self.entry(d, earlier);
            if let Some(id) = &entry.delivery.msg_id {
                self.attempts.entry(id.clone()).or_default().push(entry.key);
            }
            self.counts.total += 1;
            match entry.mark {
                Mark::Verified => self.counts.verified += 1,
                Mark::Rejected => self.counts.rejected += 1,
                _ => {}
            }
            let index = self.entries.len();
            let visible = matches(&entry, &query, self.failures_only);
            self.held_bytes += entry.delivery.body.len();
            self.entries.push(entry);
            if visible {
                self.view.push(index);
                new_matching += 1;
                if self.follow {
                    self.selected = Some(index);
                }
            }
        }
        if self.follow || self.selected.is_none() {
            self.follow = true;
            if let Some(&newest) = self.view.last() {
                self.selected = Some(newest);
            }
            self.list_offset = 0;
        } else {
            self.unseen += new_matching;
            // Keep the rows on screen where they were: new ones arrive above.
            self.list_offset += new_matching;
        }
        self.trim();
        self.keep_within_budget();
        self.scroll_into_view();
    }

    /// Why a body was let go, for the status line and the Body tab.
    pub fn budget_hint(&self) -> String {
        format!(
            "with the store off, the newest {} of bodies are kept in memory (the store keeps them all)",
            human_bytes(self.body_budget as u64)
        )
    }

    /// Lets go of the oldest held bodies until what is held fits the budget. The newest body
    /// always stays.
    fn keep_within_budget(&mut self) {
        let newest = self.entries.len().saturating_sub(1);
        while self.held_bytes > self.body_budget && self.first_with_body < newest {
            let e = &mut self.entries[self.first_with_body];
            self.first_with_body += 1;
            if e.delivery.body.is_empty() {
                continue;
            }
            self.held_bytes -= e.delivery.body.len();
            e.delivery = Arc::new(Delivery {
                body: Bytes::new(),
                ..(*e.delivery).clone()
            });
            e.body_dropped = true;
        }
    }

    /// Drops the oldest entries beyond `retain` (in steps, so it costs nothing per delivery).
    fn trim(&mut self) {
        let retain = self.retain.max(1);
        if self.entries.len() <= retain + retain / 8 {
            return;
        }
        let drop = self.entries.len() - retain;
        // The header's counts stay totals for the run; only the held entries go.
        for e in self.entries.drain(..drop) {
            if e.earlier {
                self.earlier -= 1;
            }
            self.held_bytes -= e.delivery.body.len();
        }
        self.first_with_body = self.first_with_body.saturating_sub(drop);
        let first_key = self.entries.first().map_or(u64::MAX, |e| e.key);
        self.attempts.retain(|_, keys| {
            keys.retain(|k| *k >= first_key);
            !keys.is_empty()
        });
        self.view.retain(|&i| i >= drop);
        for i in &mut self.view {
            *i -= drop;
        }
        self.selected = match self.selected {
            Some(i) if i >= drop => Some(i - drop),
            Some(_) => self.view.first().copied(),
            None => None,
        };
    }

    fn count_rate(&mut self, second: i64) {
        if second > self.rate_second {
            self.advance_rate(second);
        }
        let back = (self.rate_second - second) as usize;
        if back < RATE_SECONDS {
            let i = RATE_SECONDS - 1 - back;
            self.rate[i] += 1;
        }
    }

    fn advance_rate(&mut self, second: i64) {
        let steps = (second - self.rate_second).clamp(0, RATE_SECONDS as i64) as usize;
        for _ in 0..steps {
            self.rate.pop_front();
            self.rate.push_back(0);
        }
        self.rate_second = second;
    }

    /// The local date now, once a tick has said what now is.
    pub fn today(&self) -> Option<time::Date> {
        (self.now_ms > 0)
            .then(|| time::OffsetDateTime::from_unix_timestamp(self.now_ms / 1000).ok())
            .flatten()
            .map(|now| now.to_offset(self.offset).date())
    }

    fn tick(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        self.advance_rate(now_ms.div_euclid(1000));
        if let Some((_, until)) = &self.status
            && *until <= now_ms
        {
            self.status = None;
        }
    }

    fn key(&mut self, key: KeyEvent) -> Option<Effect> {
        if key.kind != KeyEventKind::Press {
            // Some terminals report releases and repeats too; act once.
            return None;
        }
        if self.editing_filter {
            match key.code {
                KeyCode::Esc => {
                    self.editing_filter = false;
                    self.set_filter(String::new());
                }
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Backspace => {
                    let mut f = self.filter.clone();
                    f.pop();
                    self.set_filter(f);
                }
                _ if is_ctrl_c(&key) => self.quit = true,
                // A shell's line-editing keys: clear, and drop the last word.
                _ if is_ctrl(&key, 'u') => self.set_filter(String::new()),
                _ if is_ctrl(&key, 'w') => {
                    let kept = self.filter.trim_end();
                    let cut = kept.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                    let f = kept[..cut].to_owned();
                    self.set_filter(f);
                }
                // Other Ctrl and Alt chords are not text (the terminal still reports their
                // letter): typed into the filter they would only make it match nothing. Both
                // at once is AltGr on Windows (`@`, `{` on many layouts), which is text.
                KeyCode::Char(_)
                    if matches!(
                        key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT),
                        KeyModifiers::CONTROL | KeyModifiers::ALT
                    ) => {}
                KeyCode::Char(c) if !c.is_control() => {
                    let f = format!("{}{c}", self.filter);
                    self.set_filter(f);
                }
                _ => {}
            }
            return None;
        }
        let command = keymap::lookup(&key);
        if command.is_none() && is_ctrl(&key, 'z') {
            // Suspending would stop the receiver with the UI: deliveries would go unanswered
            // until `fg`, and the provider would count them as failed.
            self.say(
                "not suspended: stopped, hookscope would answer no deliveries (q quits it)".into(),
            );
            return None;
        }
        if self.help {
            // Where the terminal is too short for all of it, the moving keys scroll it.
            let hidden = crate::ui::help::hidden_lines(self.size);
            let scrolled = match command {
                _ if hidden == 0 => None,
                Some(Command::Down) => Some(self.help_scroll + 1),
                Some(Command::Up) => Some(self.help_scroll.saturating_sub(1)),
                Some(Command::PageDown | Command::Last) => Some(hidden),
                Some(Command::PageUp | Command::First) => Some(0),
                _ => None,
            };
            if let Some(to) = scrolled {
                self.help_scroll = to.min(hidden);
                return None;
            }
            // Any other key closes the help, as it says, q included: people press q to leave
            // an overlay, and quitting would stop the receiver. Ctrl-C still quits.
            if !is_ctrl_c(&key) {
                self.help = false;
                return None;
            }
        }
        self.command(command?)
    }

    fn command(&mut self, c: Command) -> Option<Effect> {
        // A first `x` (or `F`) is undone by anything else asked for in between.
        let armed = self
            .armed
            .take()
            .is_some_and(|(first, until)| first == c && self.now_ms <= until);
        match c {
            Command::Up => self.move_rows(-1),
            Command::Down => self.move_rows(1),
            Command::First => {
                self.follow = true;
                self.unseen = 0;
                self.select_row(0);
            }
            Command::Last => {
                let last = self.view.len().saturating_sub(1);
                self.select_row(last);
            }
            Command::PageUp | Command::PageDown => {
                let page = self.page_height().max(1) as isize;
                let delta = if c == Command::PageUp { -page } else { page };
                if self.detail {
                    // From where the pane shows (a match near the end scrolls past it).
                    let max = crate::ui::detail_max_scroll(self);
                    let to = (self.scroll.min(max) as isize + delta).max(0) as usize;
                    self.scroll = to.min(max);
                } else {
                    self.move_rows(delta);
                }
            }
            Command::DetailTop => self.scroll = 0,
            Command::DetailEnd if self.detail => {
                self.scroll = crate::ui::detail_max_scroll(self);
            }
            Command::DetailEnd => {}
            Command::ToggleDetail => {
                self.detail = !self.detail && self.selected.is_some();
                self.scroll = 0;
            }
            Command::NextTab | Command::PrevTab => {
                let n = Tab::ALL.len();
                let step = if c == Command::NextTab { 1 } else { n - 1 };
                self.tab = Tab::ALL[(self.tab.index() + step) % n];
                self.detail = self.selected.is_some();
                self.scroll = 0;
            }
            Command::Filter => {
                self.editing_filter = true;
            }
            Command::NextMatch | Command::PrevMatch => return self.seek(c),
            Command::ToggleFailures => {
                self.failures_only = !self.failures_only;
                self.refilter(false);
                self.say(if self.failures_only {
                    "showing failures only (f shows everything)".into()
                } else {
                    "showing everything".into()
                });
            }
            Command::ToggleRaw => {
                self.raw = !self.raw;
                self.scroll = 0;
                if self.detail {
                    self.tab = Tab::Body;
                }
            }
            Command::CopyId
            | Command::CopyMessageId
            | Command::CopyPayload
            | Command::CopyCurl
            | Command::CopyCurlResigned
            | Command::Replay
            | Command::ReplayResigned
            | Command::EditAndSend
                if self.selected_entry().is_none() =>
            {
                self.say(if self.entries.is_empty() {
                    "nothing to copy or replay yet: no delivery has come".into()
                } else {
                    "no delivery selected: none is shown (Esc clears the filter, f shows everything)"
                        .into()
                });
            }
            Command::CopyId => return self.copy_id(),
            Command::CopyMessageId => return self.copy_message_id(),
            Command::CopyPayload => return self.copy_payload(),
            // A refused head whose request line was not seen has no method or path to
            // repeat: curl -X '' would be nonsense, and a replay could only fail.
            Command::CopyCurl
            | Command::CopyCurlResigned
            | Command::Replay
            | Command::ReplayResigned
            | Command::EditAndSend
                if self
                    .selected_entry()
                    .is_some_and(|e| e.delivery.method.is_empty()) =>
            {
                self.say("nothing to re-send: this request's line was not seen".into());
            }
            // Nor one that never came whole or whose body was not kept: a curl command would
            // send something else, as `replay` says.
            Command::CopyCurl
            | Command::CopyCurlResigned
            | Command::Replay
            | Command::ReplayResigned
            | Command::EditAndSend
                if let Some(why) = self
                    .selected_entry()
                    .and_then(|e| crate::replay::unrepeatable(&e.delivery)) =>
            {
                self.say(format!("nothing to re-send: {why}"));
            }
            Command::CopyCurl => {
                let (ready, load) = self.need_body(Some(Command::CopyCurl));
                if !ready {
                    return load;
                }
                let e = self.selected_entry()?;
                let text = crate::curl::command(self.full_of(e)?, &self.info.listen);
                return Some(Effect::Copy {
                    text,
                    what: "curl command".into(),
                });
            }
            Command::CopyCurlResigned
            | Command::Replay
            | Command::ReplayResigned
            | Command::EditAndSend => {
                let (ready, load) = self.need_body(Some(c));
                if !ready {
                    return load;
                }
                let e = self.selected_entry()?;
                let delivery = Arc::new(self.full_of(e)?.clone());
                return Some(match c {
                    Command::CopyCurlResigned => Effect::CopyResignedCurl { delivery },
                    Command::EditAndSend => Effect::Edit { delivery },
                    _ => {
                        self.say(format!(
                            "replaying {}{}…",
                            e.id(),
                            if c == Command::ReplayResigned {
                                " re-signed"
                            } else {
                                ""
                            }
                        ));
                        Effect::Replay {
                            delivery,
                            resign: c == Command::ReplayResigned,
                        }
                    }
                });
            }
            Command::Clear if self.entries.is_empty() => {
                self.say("nothing to clear: the list is empty".into());
            }
            // Twice, as nothing brings a cleared list back (with the store, a restart does).
            Command::Clear if armed => self.clear(),
            Command::Clear => {
                self.armed = Some((c, self.now_ms + STATUS_MS));
                self.say(format!(
                    "x again clears {} from the list{}",
                    crate::delivery::deliveries(self.entries.len() as u64),
                    if self.bodies_in_store {
                        " (the store keeps them: hookscope history)"
                    } else {
                        " (--no-store: they are not kept anywhere)"
                    }
                ));
            }
            Command::ResendFailing => return self.resend_failing(armed),
            Command::CycleMode => {
                self.mode = self.mode.next();
                self.say(format!("answering senders: {}", self.mode));
                return Some(Effect::SetMode(self.mode));
            }
            Command::Help => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Command::Back => {
                if self.help {
                    self.help = false;
                } else if !self.filter.is_empty() {
                    self.set_filter(String::new());
                } else {
                    self.detail = false;
                }
            }
            Command::Quit => self.quit = true,
        }
        None
    }

    /// `F`: the first press says what a second would re-send, the second sends it: the newest
    /// delivery of each message held that its sender saw fail and the filter shows, as
    /// `hookscope replay --failed` picks them from the store.
    fn resend_failing(&mut self, armed: bool) -> Option<Effect> {
        if self.resending && armed {
            self.say("stopping the re-send once the message under way is answered…".into());
            return Some(Effect::StopResending);
        }
        if self.resending {
            self.armed = Some((Command::ResendFailing, self.now_ms + STATUS_MS));
            self.say("already re-sending the failing messages: F again stops it".into());
            return None;
        }
        let (go, left_out) = self.failing();
        if go.is_empty() {
            let listed = if self.filter.is_empty() {
                ""
            } else {
                " among those the filter shows"
            };
            self.say(match left_out {
                0 => format!("no message is failing{listed}: nothing to re-send"),
                n => format!(
                    "nothing to re-send: {} failing{listed} cannot be re-sent (never came whole, or not held)",
                    crate::delivery::messages(n as u64)
                ),
            });
            return None;
        }
        let not = match left_out {
            0 => String::new(),
            n => format!(
                "; {} cannot be (never came whole, or not held)",
                crate::delivery::messages(n as u64)
            ),
        };
        if !armed {
            self.armed = Some((Command::ResendFailing, self.now_ms + STATUS_MS));
            let mode = match self.mode {
                RespondMode::Normal => String::new(),
                mode => format!(" (the answer mode, {mode}, will answer them)"),
            };
            self.say(format!(
                "F again re-sends the {} still failing, oldest first, re-signed where a secret applies{mode}{not}",
                crate::delivery::messages(go.len() as u64)
            ));
            return None;
        }
        self.resending = true;
        self.say(format!(
            "re-sending the {} still failing…",
            crate::delivery::messages(go.len() as u64)
        ));
        Some(Effect::ResendFailing { deliveries: go })
    }

    /// The newest held delivery of each message that failed and is listed, oldest first, and
    /// how many more there are that cannot be re-sent (never came whole, body not held).
    fn failing(&self) -> (Vec<Arc<Delivery>>, usize) {
        let (mut go, mut left_out) = (Vec::new(), 0);
        for &i in &self.view {
            let e = &self.entries[i];
            let d = &e.delivery;
            let newest = d
                .msg_id
                .as_ref()
                .and_then(|id| self.attempts.get(id))
                .and_then(|keys| keys.last());
            if newest != Some(&e.key) || !d.failed() {
                continue;
            }
            if e.body_dropped || crate::replay::unrepeatable(d).is_some() {
                left_out += 1;
            } else {
                go.push(d.clone());
            }
        }
        (go, left_out)
    }

    /// Empties the list and the header's counts, as at start-up with nothing stored: for a
    /// fresh round of test events. The store, the answer mode and the filter stay as they are.
    fn clear(&mut self) {
        let n = self.entries.len();
        self.entries.clear();
        self.view.clear();
        self.attempts.clear();
        self.bodies.clear();
        self.loaded.clear();
        self.loading = None;
        self.unloadable = None;
        self.pending_copy = None;
        self.selected = None;
        self.follow = true;
        self.unseen = 0;
        self.list_offset = 0;
        self.detail = false;
        self.scroll = 0;
        self.held_bytes = 0;
        self.first_with_body = 0;
        self.earlier = 0;
        self.counts = Counts::default();
        self.say(format!(
            "cleared {} from the list{}",
            crate::delivery::deliveries(n as u64),
            if self.bodies_in_store {
                "; hookscope history still lists them"
            } else {
                ""
            }
        ));
    }

    fn copy_id(&mut self) -> Option<Effect> {
        let e = self.selected_entry()?;
        let d = &e.delivery;
        let (text, kind) = match (&d.event_id, &d.msg_id) {
            (Some(id), _) => (id.clone(), "event id"),
            (None, Some(id)) => (id.clone(), "message id"),
            (None, None) => {
                self.say("this delivery has no event or message id".into());
                return None;
            }
        };
        let what = format!("{kind} {}", sanitize::line(&text));
        Some(Effect::Copy { text, what })
    }

    fn copy_message_id(&mut self) -> Option<Effect> {
        let Some(id) = self.selected_entry()?.delivery.msg_id.clone() else {
            self.say("this delivery has no message id (no svix-id or webhook-id header)".into());
            return None;
        };
        let what = format!("message id {}", sanitize::line(&id));
        Some(Effect::Copy { text: id, what })
    }

    fn copy_payload(&mut self) -> Option<Effect> {
        let (ready, load) = self.need_body(Some(Command::CopyPayload));
        if !ready {
            return load;
        }
        let e = self.selected_entry()?;
        let body = self.body_of(e)?;
        if body.is_empty() {
            self.say("this delivery has no payload".into());
            return None;
        }
        let size = human_bytes(body.len() as u64);
        Some(match std::str::from_utf8(body) {
            Ok(text) => Effect::Copy {
                text: text.to_string(),
                what: format!("payload ({size})"),
            },
            Err(_) => {
                use base64::Engine as _;
                Effect::Copy {
                    text: base64::engine::general_purpose::STANDARD.encode(body),
                    what: format!("payload as base64, it is not UTF-8 ({size})"),
                }
            }
        })
    }

    /// Pasted text (an event id from a ticket, a message id) goes into the filter: added to
    /// the one being typed, else a new one. Read as keys, each character would be a command:
    /// `r` replays, `m` changes what senders are answered, `q` quits.
    fn paste(&mut self, text: &str) {
        let line: String = text
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        self.help = false;
        let filter = if self.editing_filter {
            format!("{}{line}", self.filter)
        } else {
            line.to_string()
        };
        self.editing_filter = true;
        self.set_filter(filter);
    }

    fn set_filter(&mut self, filter: String) {
        // Typing more only narrows what is shown, so only the current view needs checking
        // (unless bodies live in the store: their matches come back from a search).
        let narrowing =
            filter.starts_with(&self.filter) && !self.filter.is_empty() && !self.bodies_in_store;
        self.filter = filter;
        self.refilter(narrowing);
        if self.bodies_in_store && !self.filter.is_empty() {
            self.search_needed = Some(self.filter.to_lowercase());
        }
    }

    fn search_results(&mut self, query: &str, ids: Result<Vec<u64>, String>) {
        if query != self.filter.to_lowercase() {
            return; // an answer to a filter since changed
        }
        let ids = match ids {
            Ok(ids) => ids,
            Err(e) => {
                // The list stays as the filter made it from what is held: say what is missing.
                self.say(format!(
                    "stored bodies could not be searched: {} (matches by type, id and path only)",
                    crate::sanitize::line(&e)
                ));
                return;
            }
        };
        let ids: std::collections::HashSet<u64> = ids.into_iter().collect();
        let failures = self.failures_only;
        self.view = (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                matches(e, query, failures)
                    || (e.delivery.stored
                        && ids.contains(&e.delivery.seq)
                        && matches(e, "", failures))
            })
            .collect();
        if self
            .selected
            .is_none_or(|i| self.view.binary_search(&i).is_err())
        {
            self.follow = true;
            self.selected = self.view.last().copied();
        }
        self.scroll_into_view();
    }

    fn refilter(&mut self, narrowing: bool) {
        let query = self.filter.to_lowercase();
        let failures = self.failures_only;
        if narrowing {
            let entries = &self.entries;
            self.view
                .retain(|&i| matches(&entries[i], &query, failures));
        } else {
            self.view = (0..self.entries.len())
                .filter(|&i| matches(&self.entries[i], &query, failures))
                .collect();
        }
        self.unseen = 0;
        let keep = self.selected.filter(|i| self.view.binary_search(i).is_ok());
        match keep {
            Some(_) if !self.follow => {}
            _ => {
                self.follow = true;
                self.selected = self.view.last().copied();
            }
        }
        if self.selected.is_none() {
            self.detail = false;
        }
        self.list_offset = 0;
        self.scroll_into_view();
    }

    fn move_rows(&mut self, delta: isize) {
        let row = self.selected_row().unwrap_or(0);
        let max = self.view.len().saturating_sub(1) as isize;
        let target = (row as isize + delta).clamp(0, max) as usize;
        self.select_row(target);
        // Back on the newest row, follow new deliveries again.
        self.follow = target == 0;
    }

    fn select_row(&mut self, row: usize) {
        if let Some((i, _)) = self.entry_at_row(row) {
            if self.selected != Some(i) {
                self.scroll = 0;
            }
            self.selected = Some(i);
            if row == 0 {
                self.unseen = 0;
            }
        }
        self.scroll_into_view();
    }

    /// Rows the list shows at the current size.
    pub fn list_rows(&self) -> usize {
        let areas = crate::ui::layout(Rect::new(0, 0, self.size.0, self.size.1), self.detail);
        areas.list.height.saturating_sub(2) as usize
    }

    fn page_height(&self) -> usize {
        if self.detail {
            let areas = crate::ui::layout(Rect::new(0, 0, self.size.0, self.size.1), true);
            areas
                .detail
                .map_or(10, |d| d.height.saturating_sub(3) as usize)
        } else {
            self.list_rows()
        }
    }

    fn scroll_into_view(&mut self) {
        let rows = self.list_rows().max(1);
        let max_offset = self.view.len().saturating_sub(rows);
        if let Some(row) = self.selected_row() {
            if row < self.list_offset {
                self.list_offset = row;
            } else if row >= self.list_offset + rows {
                self.list_offset = row + 1 - rows;
            }
        }
        self.list_offset = self.list_offset.min(max_offset);
    }

    fn mouse(&mut self, m: MouseEvent) {
        if self.help {
            // The help covers the list: the wheel scrolls the help, a click closes it, and
            // neither reaches the rows underneath.
            let hidden = crate::ui::help::hidden_lines(self.size);
            match m.kind {
                MouseEventKind::ScrollDown => self.help_scroll = (self.help_scroll + 1).min(hidden),
                MouseEventKind::ScrollUp => self.help_scroll = self.help_scroll.saturating_sub(1),
                MouseEventKind::Down(_) => self.help = false,
                _ => {}
            }
            return;
        }
        let areas = crate::ui::layout(Rect::new(0, 0, self.size.0, self.size.1), self.detail);
        let at = Position::new(m.column, m.row);
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = matches!(m.kind, MouseEventKind::ScrollDown);
                if areas.detail.is_some_and(|d| d.contains(at)) {
                    // From where the pane shows (a match near the end scrolls past it).
                    let max = crate::ui::detail_max_scroll(self);
                    let from = self.scroll.min(max);
                    self.scroll = if down {
                        (from + 3).min(max)
                    } else {
                        from.saturating_sub(3)
                    };
                } else {
                    self.move_rows(if down { 1 } else { -1 });
                }
            }
            MouseEventKind::Down(MouseButton::Left) => {
                // Rows start below the list's border and column header.
                let first_row = areas.list.y + 2;
                if areas.list.contains(at) && m.row >= first_row {
                    let row = self.list_offset + (m.row - first_row) as usize;
                    if row < self.view.len() {
                        self.select_row(row);
                        self.follow = row == 0;
                    }
                } else if let Some(d) = areas.detail
                    && m.row == d.y
                    && let Some(tab) = crate::ui::tab_at(d, m.column)
                {
                    self.tab = tab;
                    self.scroll = 0;
                }
            }
            _ => {}
        }
    }

    /// Scrolls the Body tab to the next ([`Command::NextMatch`]) or previous line holding the
    /// filter's text, as less's `n` and `N` do (going round at the end); from the list or
    /// another tab, opens the Body tab at the first (or last) such line.
    fn seek(&mut self, c: Command) -> Option<Effect> {
        if self.filter.is_empty() {
            self.say(
                "n and N find the filter's text in the body: type / and the text first".into(),
            );
            return None;
        }
        if self.selected_entry().is_none() {
            self.say("no delivery selected: none is shown (Esc clears the filter)".into());
            return None;
        }
        let (ready, load) = self.need_body(Some(c));
        if !ready {
            return load;
        }
        let from = (self.detail && self.tab == Tab::Body).then_some(self.scroll);
        self.detail = true;
        self.tab = Tab::Body;
        self.prepare_body();
        let query = self.filter.to_lowercase();
        let hits: Vec<usize> = self
            .body_view()?
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| contains_ignore_ascii_case(l.text.as_bytes(), query.as_bytes()))
            .map(|(i, _)| i)
            .collect();
        let (Some(&first), Some(&last)) = (hits.first(), hits.last()) else {
            self.scroll = from.unwrap_or(0);
            self.say(format!(
                "“{}” is not in this body as shown (the filter found its type, an id, the path or the status)",
                sanitize::line(&self.filter)
            ));
            return None;
        };
        let forward = c == Command::NextMatch;
        let (at, went_round) = match from {
            None => (if forward { first } else { last }, false),
            Some(s) if forward => hits
                .iter()
                .find(|&&i| i > s)
                .map_or((first, true), |&i| (i, false)),
            Some(s) => hits
                .iter()
                .rev()
                .find(|&&i| i < s)
                .map_or((last, true), |&i| (i, false)),
        };
        // Left where the line is, not where the pane can show it from: the next search goes
        // on from that line (drawing and paging clamp it).
        self.scroll = at;
        let nth = hits.iter().position(|&i| i == at).unwrap_or(0) + 1;
        self.say(format!(
            "“{}” at line {} · match {nth} of {}{}",
            sanitize::line(&self.filter),
            at + 1,
            hits.len(),
            match (went_round, forward) {
                (false, _) => "",
                (true, true) => " · went round to the top",
                (true, false) => " · went round to the end",
            }
        ));
        None
    }

    /// Prepares the selected body once, when the Body tab shows it, loading it first if needed.
    fn prepare_body(&mut self) -> Option<Effect> {
        if !self.detail {
            return None;
        }
        let (ready, load) = self.need_body(None);
        if !ready || self.tab != Tab::Body {
            return load;
        }
        let e = self.selected_entry()?;
        let key = e.key;
        if self
            .bodies
            .iter()
            .any(|(k, r, _)| *k == key && *r == self.raw)
        {
            return None;
        }
        let body = self.body_of(e)?;
        let view = if self.raw {
            highlight::raw(body, Limits::default())
        } else {
            highlight::pretty(body, Limits::default())
        };
        if self.bodies.len() >= BODY_CACHE {
            self.bodies.pop_front();
        }
        self.bodies.push_back((key, self.raw, Arc::new(view)));
        None
    }
}

fn matches(e: &Entry, query: &str, failures_only: bool) -> bool {
    if failures_only && !e.delivery.failed() {
        return false;
    }
    if query.is_empty() {
        return true;
    }
    let d = &e.delivery;
    let text_hit = |s: &str| s.to_lowercase().contains(query);
    e.what().to_lowercase().contains(query)
        || d.event_id.as_deref().is_some_and(text_hit)
        || d.msg_id.as_deref().is_some_and(text_hit)
        || d.path.to_lowercase().contains(query)
        || d.verdict.failure_code().is_some_and(|c| c.contains(query))
        // Text like the rest (a longer query only narrows what a shorter one found).
        || itoa::Buffer::new().format(d.response.status).contains(query)
        || contains_ignore_ascii_case(&d.body, query.as_bytes())
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || places_ignoring_ascii_case(hay, needle).next().is_some()
}

/// Where `needle` (not empty) stands in `hay`, ASCII letters in either case, first to last
/// (overlapping ones too).
fn places_ignoring_ascii_case<'a>(
    hay: &'a [u8],
    needle: &'a [u8],
) -> impl Iterator<Item = usize> + 'a {
    let (first, rest) = needle.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    let starts = hay
        .len()
        .checked_sub(needle.len())
        .map_or(0, |last| last + 1);
    // Jump between places where the first byte occurs, in either case, at memchr speed: a
    // window-by-window compare cost ~150 ns per 1 KiB body, 15 ms per key with 100,000 held.
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &hay[..starts],
    )
    .filter(move |&at| hay[at + 1..at + needle.len()].eq_ignore_ascii_case(rest))
}

/// Byte ranges of `text` that hold the filter's text (`query`) as the filter finds it in a
/// body (ASCII letters in either case), in order and apart: where the Body tab marks it.
pub fn found_in(text: &str, query: &str) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    if query.is_empty() {
        return found;
    }
    // A valid UTF-8 needle matched byte for byte (ASCII aside) begins and ends on
    // character boundaries of the text.
    for at in places_ignoring_ascii_case(text.as_bytes(), query.as_bytes()) {
        if found.last().is_none_or(|&(_, end)| at >= end) {
            found.push((at, at + query.len()));
        }
    }
    found
}

/// Ctrl-C, which quits whatever else is going on (typing a filter, the help open).
fn is_ctrl_c(key: &KeyEvent) -> bool {
    is_ctrl(key, 'c')
}

/// Ctrl and `c`.
fn is_ctrl(key: &KeyEvent, c: char) -> bool {
    key.code == KeyCode::Char(c)
        && key
            .modifiers
            .contains(ratatui::crossterm::event::KeyModifiers::CONTROL)
}

#[cfg(test)]
mod tests;
