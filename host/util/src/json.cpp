#include "bitscale/util/json.hpp"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

namespace bitscale::util::json {

const Value* Value::find(std::string_view k) const {
  for (const auto& [key, v] : members) {
    if (key == k) return &v;
  }
  return nullptr;
}

double Value::number() const {
  if (kind != Kind::kNumber) throw std::runtime_error("JSON value is not a number");
  std::size_t used = 0;
  const double d = std::stod(text, &used);
  if (used != text.size()) throw std::runtime_error(fmt::format("malformed JSON number '{}'", text));
  return d;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}
  Value parse() {
    Value v = value(0);
    ws();
    if (p_ != t_.size()) fail("text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("invalid JSON at column {}: {}", p_ + 1, what));
  }
  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\r' || t_[p_] == '\n')) ++p_;
  }
  char peek() {
    ws();
    if (p_ >= t_.size()) fail("unexpected end");
    return t_[p_];
  }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++p_;
  }
  std::string str() {
    expect('"');
    std::string o;
    while (true) {
      if (p_ >= t_.size()) fail("unterminated string");
      const char c = t_[p_++];
      if (c == '"') return o;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        o += c;
        continue;
      }
      if (p_ >= t_.size()) fail("unterminated string");
      const char e = t_[p_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          o += e;
          break;
        case 'n':
          o += '\n';
          break;
        case 't':
          o += '\t';
          break;
        case 'r':
          o += '\r';
          break;
        case 'b':
          o += '\b';
          break;
        case 'f':
          o += '\f';
          break;
        case 'u': {
          if (p_ + 4 > t_.size()) fail("bad \\u escape");
          const unsigned cp = static_cast<unsigned>(std::stoul(std::string(t_.substr(p_, 4)), nullptr, 16));
          p_ += 4;
          if (cp < 0x80) {
            o += static_cast<char>(cp);
          } else if (cp < 0x800) {
            o += static_cast<char>(0xC0 | (cp >> 6));
            o += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            o += static_cast<char>(0xE0 | (cp >> 12));
            o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }
  Value value(int depth) {
    if (depth > 32) fail("nested too deeply");
    Value v;
    const char c = peek();
    if (c == '{') {
      ++p_;
      v.kind = Value::Kind::kObject;
      if (peek() == '}') {
        ++p_;
        return v;
      }
      while (true) {
        std::string k = str();
        expect(':');
        v.members.emplace_back(std::move(k), value(depth + 1));
        if (peek() == ',') {
          ++p_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      ++p_;
      v.kind = Value::Kind::kArray;
      if (peek() == ']') {
        ++p_;
        return v;
      }
      while (true) {
        v.items.push_back(value(depth + 1));
        if (peek() == ',') {
          ++p_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Value::Kind::kString;
      v.text = str();
      return v;
    }
    for (std::string_view lit : {"null", "true", "false"}) {
      if (t_.substr(p_, lit.size()) == lit) {
        p_ += lit.size();
        v.kind = lit == "null" ? Value::Kind::kNull : Value::Kind::kBool;
        v.b = lit == "true";
        return v;
      }
    }
    const std::size_t start = p_;
    while (p_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[p_])) || t_[p_] == '-' || t_[p_] == '+' ||
                              t_[p_] == '.' || t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
    }
    if (p_ == start) fail("unexpected character");
    v.kind = Value::Kind::kNumber;
    v.text = std::string(t_.substr(start, p_ - start));
    return v;
  }

  std::string_view t_;
  std::size_t p_ = 0;
};

}  // namespace

Value parse(std::string_view text, const std::string& source) {
  try {
    return Parser(text).parse();
  } catch (const std::runtime_error& e) {
    if (source.empty()) throw;
    throw std::runtime_error(fmt::format("{}: {}", source, e.what()));
  }
}

std::string quote(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      o += c;
    }
  }
  return o + "\"";
}

}  // namespace bitscale::util::json
