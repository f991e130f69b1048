// The stage contract, generated from stage/contract/ by `manage.py stage_contract`: do not edit.
// Every enumeration with its labels, the close codes, limits and thresholds, each audience's
// messages and who may send each command. A test fails whenever this file and the Python
// declarations differ.

const freeze = (value) => {
  if (value && typeof value === "object") Object.values(value).forEach(freeze);
  return Object.freeze(value);
};

export default freeze({
  "enums": {
    "phase": {"values": ["preshow", "rehearsal", "live", "ended"], "labels": {"preshow": "Pre-show", "rehearsal": "Rehearsal", "live": "Live", "ended": "Ended"}},
    "line_health": {"values": ["unknown", "connecting", "ok", "silent", "faulted"], "labels": {"unknown": "no signal yet", "connecting": "connecting", "ok": "receiving", "silent": "silent", "faulted": "faulted"}},
    "fallback_source": {"values": ["hold_music", "slate_tone"], "labels": {"hold_music": "hold music", "slate_tone": "slate tone"}},
    "presenter_status": {"values": ["ok", "audio_problem", "need_a_moment", "dropping_off"], "labels": {"ok": "OK", "audio_problem": "Audio problem", "need_a_moment": "Need a moment", "dropping_off": "Dropping off"}},
    "segment_status": {"values": ["queued", "standby", "on_air", "done", "skipped"], "labels": {"queued": "queued", "standby": "standby", "on_air": "on air", "done": "done", "skipped": "skipped"}},
    "cue_kind": {"values": ["standby", "on", "wrap_up", "custom"], "labels": {"standby": "standby", "on": "you're on", "wrap_up": "wrap up", "custom": "cue"}},
    "question_status": {"values": ["pending", "approved", "dismissed", "answered", "on_screen"], "labels": {"pending": "pending", "approved": "approved", "dismissed": "dismissed", "answered": "answered", "on_screen": "on screen"}},
    "poll_status": {"values": ["draft", "open", "closed"], "labels": {"draft": "draft", "open": "open", "closed": "closed"}},
    "chat_from": {"values": ["producer", "presenter"], "labels": {"producer": "producer", "presenter": "presenter"}},
    "role": {"values": ["producer", "presenter", "mixer", "system", "viewer", "monitor", "nobody"], "labels": {"producer": "producer", "presenter": "presenter", "mixer": "mixer", "system": "system", "viewer": "viewer", "monitor": "off-air monitor", "nobody": "nobody"}},
    "tally": {"values": ["program", "preview", "idle", "hold", "muted", "off"], "labels": {"program": "on air", "preview": "preview", "idle": "idle", "hold": "on hold", "muted": "muted", "off": "off air"}},
    "source_kind": {"values": ["browser", "encoder", "dial_in", "stream", "test_tone", "file", "other"], "labels": {"browser": "browser microphone", "encoder": "encoder", "dial_in": "dial-in line", "stream": "stream", "test_tone": "test tone", "file": "file", "other": "external source"}},
    "alarm": {"values": ["silence"], "labels": {"silence": "silence"}},
    "off_air_alarm": {"values": ["dead_air", "loud", "late", "stalled", "regressed", "discontinuity", "wrong_line", "monitor_down"], "labels": {"dead_air": "dead air", "loud": "too loud", "late": "stream late", "stalled": "stream stalled", "regressed": "playlist went back", "discontinuity": "stream cut", "wrong_line": "wrong line heard", "monitor_down": "off-air monitor down"}},
    "output_health": {"values": ["ok", "disk_full"], "labels": {"ok": "publishing", "disk_full": "disk full"}},
    "clock_level": {"values": ["ok", "warn", "over"], "labels": {"ok": "remaining", "warn": "remaining", "over": "overrun"}},
  },
  "groups": {"mixing_phases": ["rehearsal", "live"], "reported_health": ["connecting", "ok", "silent", "faulted"], "carrying_health": ["ok", "silent"], "not_started": ["queued", "standby", "skipped"]},
  "close_codes": {"bad_media": 4400, "forbidden": 4403, "superseded": 4409, "too_fast": 4429, "unavailable": 4503},
  "cue_to_all": "all",
  "source_formats": ["aac", "flv", "matroska", "mov", "mp3", "mpegts", "ogg", "sdp", "wav"],
  "limits": {"id": 32, "title": 200, "text": 500, "name": 80, "source": 500, "segment_seconds": 86400, "lines_on_air": 4, "talkback_presenters": 32, "gain_db": {"min": -60.0, "max": 12.0}, "rtc_session": 64, "sdp": 12000, "poll_options": {"min": 2, "max": 8}, "option": 100},
  "clock": {"warn_seconds": 60, "warn_fraction": 0.2},
  "reconnect": {"first_ms": 500, "most_ms": 8000},
  "messages": {
    "console": {"snapshot": "server", "delta": "server", "ack": "server", "refused": "server", "error": "server", "heartbeat": "server", "rtc_answer": "mixer", "rtc_refused": "server", "meters": "mixer", "line_health": "mixer", "alarm": "mixer", "fallback": "mixer", "off_air": "monitor", "output": "mixer"},
    "greenroom": {"snapshot": "server", "delta": "server", "ack": "server", "refused": "server", "error": "server", "heartbeat": "server", "rtc_answer": "mixer", "rtc_refused": "server", "message": "server"},
    "uplink": {"uplink": "server", "error": "server"},
  },
  "commands": {"start_rehearsal": ["producer"], "stop_rehearsal": ["producer"], "go_live": ["producer"], "end_show": ["producer"], "set_hold": ["producer"], "set_fallback": ["producer"], "set_on_air": ["producer"], "set_mute": ["producer"], "set_gain": ["producer"], "set_line_health": ["mixer"], "set_output_health": ["mixer"], "set_line_source": ["producer"], "set_off_air_alarm": ["monitor", "system"], "set_preview": ["producer"], "take": ["producer"], "send_to_green_room": ["producer"], "set_talkback": ["producer", "system"], "set_backstage": ["producer"], "set_check_in": ["presenter", "producer"], "set_ready": ["presenter", "producer"], "set_presence": ["presenter", "system"], "set_status": ["presenter", "producer"], "add_segment": ["producer"], "update_segment": ["producer"], "remove_segment": ["producer"], "move_segment": ["producer"], "skip_segment": ["producer"], "standby": ["producer"], "next": ["producer"], "cue": ["producer"], "ack_cue": ["presenter"], "clear_cue": ["producer"], "message": ["presenter", "producer"], "send_question": ["producer"], "ask_question": ["producer", "viewer"], "set_question_status": ["producer"], "show_slide": ["presenter", "producer"], "set_presenter_slides": ["producer"], "set_deck": ["system"], "remove_deck": ["system"], "add_poll": ["producer"], "set_poll_status": ["producer"], "show_poll_results": ["producer"], "remove_poll": ["producer"], "set_votes": ["system"]},
  "signals": {"rtc_offer": ["presenter", "producer"], "monitor": ["producer"], "talk_backstage": ["producer"]},
  "monitor_choices": ["program", "preview", "backstage", "line"],
});
