#include "util/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace lakeflow::text {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at s[pos]; advances pos.
bool read_digits(std::string_view s, std::size_t& pos, int n, unsigned& out) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  unsigned v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + static_cast<std::size_t>(i)];
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += static_cast<std::size_t>(n);
  out = v;
  return true;
}

// Reads one or two digits (strptime's %m / %d).
bool read_1or2_digits(std::string_view s, std::size_t& pos, unsigned& out) {
  if (pos >= s.size() || !is_digit(s[pos])) return false;
  unsigned v = static_cast<unsigned>(s[pos++] - '0');
  if (pos < s.size() && is_digit(s[pos])) v = v * 10 + static_cast<unsigned>(s[pos++] - '0');
  out = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

struct DateTime {
  std::int32_t days = 0;
  std::int64_t micros_of_day = 0;
  bool has_offset = false;
  std::int64_t offset_seconds = 0;
};

// ISO-8601 as Python 3.11's datetime.fromisoformat reads it (extended format).
const char* parse_iso(std::string_view s, DateTime& out) {
  std::size_t pos = 0;
  unsigned year, month, day;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, day)) {
    return "not an ISO-8601 date (YYYY-MM-DD)";
  }
  auto days = days_from_civil(year, month, day);
  if (!days || year == 0) return "no such calendar date";
  out.days = *days;
  if (pos == s.size()) return nullptr;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return "unexpected text after the date";
  ++pos;
  unsigned hour = 0, minute = 0, second = 0;
  std::int64_t frac_micros = 0;
  if (!read_digits(s, pos, 2, hour)) return "expected the hour (HH) after the date";
  if (expect(s, pos, ':')) {
    if (!read_digits(s, pos, 2, minute)) return "expected minutes (MM)";
    if (expect(s, pos, ':')) {
      if (!read_digits(s, pos, 2, second)) return "expected seconds (SS)";
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int digits = 0;
        while (pos < s.size() && is_digit(s[pos])) {
          if (digits < 6) frac_micros = frac_micros * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return "expected digits after the decimal point of the seconds";
        if (digits > 9) return "more than 9 digits of fractional seconds";
        for (int i = digits; i < 6; ++i) frac_micros *= 10;
      }
    }
  }
  if (second == 60 && minute == 59) {
    second = 59;  // a leap second: the last microsecond before the next minute
    frac_micros = kMicrosPerSecond - 1;
  }
  if (hour > 23 || minute > 59 || second > 59) return "time of day out of range";
  out.micros_of_day =
      (static_cast<std::int64_t>(hour) * 3600 + minute * 60 + second) * kMicrosPerSecond +
      frac_micros;
  if (pos == s.size()) return nullptr;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    out.has_offset = true;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    unsigned oh, om = 0, os = 0;
    if (!read_digits(s, pos, 2, oh)) return "malformed UTC offset";
    if (expect(s, pos, ':')) {
      if (!read_digits(s, pos, 2, om)) return "malformed UTC offset";
      if (expect(s, pos, ':') && !read_digits(s, pos, 2, os)) return "malformed UTC offset";
    } else if (pos < s.size() && is_digit(s[pos])) {
      if (!read_digits(s, pos, 2, om)) return "malformed UTC offset";
    }
    if (oh > 23 || om > 59 || os > 59) return "UTC offset out of range";
    out.has_offset = true;
    out.offset_seconds = sign * (static_cast<std::int64_t>(oh) * 3600 + om * 60 + os);
  } else {
    return "unexpected text after the time";
  }
  if (pos != s.size()) return "unexpected text after the UTC offset";
  return nullptr;
}

}  // namespace

std::optional<std::int32_t> days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  static constexpr unsigned kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return std::nullopt;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  unsigned limit = kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > limit) return std::nullopt;
  // Shift the year to start in March so the leap day is the last day of the year, then count
  // whole 400-year eras (146097 days each) and the days within the era.
  std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t year_of_era = y - era * 400;
  std::int64_t month_from_march = (month + 9) % 12;
  std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<std::int32_t>(era * 146097 + day_of_era - 719468);
}

Parsed<std::int32_t> parse_date(std::string_view s) {
  s = trim(s);
  // strptime-style forms first, in upstream's order.
  struct Form {
    char sep;
    int order;  // 0: Y m d, 1: m d Y, 2: d m Y
  };
  static constexpr Form kForms[] = {{'-', 0}, {'/', 1}, {'-', 2}, {'/', 0}};
  for (const Form& form : kForms) {
    std::size_t pos = 0;
    unsigned a, b, c;
    bool ok;
    if (form.order == 0) {
      ok = read_digits(s, pos, 4, a) && expect(s, pos, form.sep) && read_1or2_digits(s, pos, b) &&
           expect(s, pos, form.sep) && read_1or2_digits(s, pos, c) && pos == s.size();
      if (ok) {
        if (auto d = days_from_civil(a, b, c); d && a > 0) return {*d};
        return {0, "no such calendar date"};
      }
    } else {
      ok = read_1or2_digits(s, pos, a) && expect(s, pos, form.sep) && read_1or2_digits(s, pos, b) &&
           expect(s, pos, form.sep) && read_digits(s, pos, 4, c) && pos == s.size();
      if (ok) {
        unsigned month = form.order == 1 ? a : b;
        unsigned day = form.order == 1 ? b : a;
        if (auto d = days_from_civil(c, month, day); d && c > 0) return {*d};
        // "05-13-2024" is not DD-MM-YYYY; fall through to the remaining forms.
      }
    }
  }
  DateTime dt;
  if (const char* error = parse_iso(s, dt)) return {0, error};
  return {dt.days};
}

Parsed<std::int64_t> parse_timestamp(std::string_view s, bool allow_offset,
                                     std::optional<std::int32_t> zone_less_offset) {
  s = trim(s);
  DateTime dt;
  const char* error = parse_iso(s, dt);
  if (error != nullptr) {
    // YYYY/MM/DD HH:MM:SS
    std::size_t pos = 0;
    unsigned y, mo, d, h, mi, se;
    if (read_digits(s, pos, 4, y) && expect(s, pos, '/') && read_digits(s, pos, 2, mo) &&
        expect(s, pos, '/') && read_digits(s, pos, 2, d) && expect(s, pos, ' ') &&
        read_digits(s, pos, 2, h) && expect(s, pos, ':') && read_digits(s, pos, 2, mi) &&
        expect(s, pos, ':') && read_digits(s, pos, 2, se) && pos == s.size()) {
      auto days = days_from_civil(y, mo, d);
      if (!days || y == 0 || h > 23 || mi > 59 || se > 59) return {0, "no such date or time"};
      dt = DateTime{};
      dt.days = *days;
      dt.micros_of_day = (static_cast<std::int64_t>(h) * 3600 + mi * 60 + se) * kMicrosPerSecond;
    } else {
      return {0, error};
    }
  }
  if (dt.has_offset && !allow_offset) {
    return {0, "has a UTC offset, but timestamp_ntz holds wall-clock time without one"};
  }
  if (allow_offset && !dt.has_offset) {
    if (!zone_less_offset) {
      return {0,
              "has no UTC offset, but a timestamp column holds instants: write Z or ±HH:MM, use a "
              "timestamp_ntz column for wall-clock time, or set the table option timestamp_zone "
              "to the zone to assume"};
    }
    dt.offset_seconds = *zone_less_offset;
  }
  std::int64_t micros = static_cast<std::int64_t>(dt.days) * kMicrosPerDay + dt.micros_of_day -
                        dt.offset_seconds * kMicrosPerSecond;
  return {micros};
}

Parsed<Int128> parse_decimal(std::string_view s, int precision, int scale) {
  s = trim(s);
  std::size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) negative = s[pos++] == '-';
  // Collect significant digits (at most 38 fit) and the position of the decimal point.
  Int128 digits = 0;
  int significant = 0;      // digits collected into `digits`, leading zeros excluded
  int fraction_digits = 0;  // digits after the point that were collected
  bool any_digit = false;
  bool seen_point = false;
  for (; pos < s.size(); ++pos) {
    char c = s[pos];
    if (is_digit(c)) {
      any_digit = true;
      if (significant == 0 && c == '0') {
        if (seen_point) ++fraction_digits;
        continue;
      }
      if (significant >= 38) return {0, "has more than 38 significant digits"};
      digits = digits * 10 + (c - '0');
      ++significant;
      if (seen_point) ++fraction_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return {0, "is not a decimal number"};
  std::int64_t exponent = 0;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) exp_negative = s[pos++] == '-';
    if (pos >= s.size() || !is_digit(s[pos])) return {0, "has a malformed exponent"};
    for (; pos < s.size() && is_digit(s[pos]); ++pos) {
      if (exponent < 100000) exponent = exponent * 10 + (s[pos] - '0');
    }
    if (exp_negative) exponent = -exponent;
  }
  if (pos != s.size()) return {0, "is not a decimal number"};
  // value = digits * 10^(exponent - fraction_digits); unscaled = value * 10^scale.
  std::int64_t shift = exponent - fraction_digits + scale;
  if (digits != 0 && shift < 0) {
    while (shift < 0) {
      if (digits % 10 != 0)
        return {0, "has more digits after the decimal point than the scale allows"};
      digits /= 10;
      ++shift;
    }
  }
  if (digits == 0) return {0};
  Int128 limit = 1;
  for (int i = 0; i < precision; ++i) limit *= 10;
  for (; shift > 0; --shift) {
    // Checked before multiplying: at precision 38, limit * 10 does not fit 128 bits.
    if (digits >= limit / 10) return {0, "has more digits than the precision allows"};
    digits *= 10;
  }
  if (digits >= limit) return {0, "has more digits than the precision allows"};
  return {negative ? -digits : digits};
}

Parsed<std::int64_t> parse_integer(std::string_view s, std::int64_t min, std::int64_t max) {
  s = trim(s);
  if (s.empty()) return {0, "is an empty string, not an integer"};
  std::string_view digits = s;
  if (digits.front() == '+') digits.remove_prefix(1);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty()) {
    if (v < min || v > max) return {0, "is out of range for the integer type"};
    return {v};
  }
  // Decimal text or an exponent: read exactly, whole numbers only.
  const Parsed<Int128> exact = parse_decimal(s, 38, 0);
  if (!exact.ok()) {
    if (std::string_view(exact.error).find("after the decimal point") != std::string_view::npos) {
      return {0, "has a fractional part; an integer column holds whole numbers only"};
    }
    if (std::string_view(exact.error).find("digits") != std::string_view::npos) {
      return {0, "is out of range for the integer type"};
    }
    return {0, "is not an integer"};
  }
  if (exact.value < min || exact.value > max) return {0, "is out of range for the integer type"};
  return {static_cast<std::int64_t>(exact.value)};
}

Parsed<std::int32_t> parse_utc_offset(std::string_view s) {
  s = trim(s);
  if (s == "UTC" || s == "utc" || s == "Z" || s == "z") return {0};
  std::size_t pos = 0;
  unsigned hours = 0, minutes = 0;
  if (s.size() == 6 && (s[0] == '+' || s[0] == '-') && (++pos, read_digits(s, pos, 2, hours)) &&
      expect(s, pos, ':') && read_digits(s, pos, 2, minutes) && hours <= 23 && minutes <= 59) {
    const std::int32_t seconds = static_cast<std::int32_t>(hours * 3600 + minutes * 60);
    return {s[0] == '-' ? -seconds : seconds};
  }
  return {0, "is not a UTC offset (UTC, Z or ±HH:MM)"};
}

Parsed<double> parse_double(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return {0, "is not a number"};
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Python's float() gives inf for overflow and 0 for underflow; keep that.
    bool negative = s.front() == '-';
    std::size_t e = s.find_first_of("eE");
    bool tiny = e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
    v = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    return {negative ? -v : v};
  }
  if (ec != std::errc() || ptr != s.data() + s.size()) return {0, "is not a number"};
  return {v};
}

void append_date(std::string& out, std::int32_t days) {
  // Inverse of days_from_civil.
  std::int64_t z = static_cast<std::int64_t>(days) + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t day_of_era = z - era * 146097;
  std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  std::int64_t y = year_of_era + era * 400;
  std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  std::int64_t mp = (5 * day_of_year + 2) / 153;
  std::int64_t d = day_of_year - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                        static_cast<long long>(m), static_cast<long long>(d));
  out.append(buf, static_cast<std::size_t>(n));
}

void append_timestamp(std::string& out, std::int64_t micros, bool utc) {
  std::int64_t days = micros / kMicrosPerDay;
  std::int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  append_date(out, static_cast<std::int32_t>(days));
  std::int64_t seconds = rest / kMicrosPerSecond;
  char buf[32];
  int n = std::snprintf(
      buf, sizeof buf, "T%02lld:%02lld:%02lld.%06lld", static_cast<long long>(seconds / 3600),
      static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60),
      static_cast<long long>(rest % kMicrosPerSecond));
  out.append(buf, static_cast<std::size_t>(n));
  if (utc) out += 'Z';
}

void append_decimal(std::string& out, Int128 unscaled, int scale) {
  bool negative = unscaled < 0;
  __extension__ typedef unsigned __int128 UInt128;
  UInt128 v = negative ? static_cast<UInt128>(-(unscaled + 1)) + 1 : static_cast<UInt128>(unscaled);
  char buf[64];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  while (n <= scale) buf[n++] = '0';
  if (negative) out += '-';
  for (int i = n - 1; i >= 0; --i) {
    out += buf[i];
    if (i == scale && scale > 0) out += '.';
  }
}

}  // namespace lakeflow::text
