//! Formatting shared by server rendering and the browser (so hydration sees the same text).

use crate::i18n::Locale;

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A duration in seconds as `1 h 5 min`, `42 s` (English).
pub fn duration(secs: i64) -> String {
    duration_in(Locale::en, secs)
}

/// A duration in seconds in `locale`: `1 h 5 min`, `42 s` in English, `1시간 5분`, `42초` in
/// Korean. The units are written here rather than in `locales/`: each is a suffix glued to
/// its number, which the translation files cannot express without interpolation.
pub fn duration_in(locale: Locale, secs: i64) -> String {
    // Seconds, minutes, hours, days, each appended to its number.
    let [s, min, h, d] = match locale {
        Locale::en => [" s", " min", " h", " d"],
        Locale::ko => ["초", "분", "시간", "일"],
    };
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}{s}"),
        60..3600 => format!("{}{min} {}{s}", secs / 60, secs % 60),
        3600..86_400 => format!("{}{h} {}{min}", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}{d} {}{h}", secs / 86_400, (secs % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_795_381_200_000), "2026-11-22 21:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(3725), "1 h 2 min");
        assert_eq!(duration(90_000), "1 d 1 h");
        assert_eq!(duration(125), "2 min 5 s");
    }

    #[test]
    fn formats_durations_in_korean() {
        assert_eq!(duration_in(Locale::ko, 42), "42초");
        assert_eq!(duration_in(Locale::ko, 125), "2분 5초");
        assert_eq!(duration_in(Locale::ko, 3725), "1시간 2분");
        assert_eq!(duration_in(Locale::ko, 90_000), "1일 1시간");
    }
}
