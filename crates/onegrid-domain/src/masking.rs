//! Masking personal data for display (一网全民享: the server masks, never the page).
//!
//! Names keep the surname (张某), phone numbers their first three and last four digits
//! (138****1234), ID numbers their first four and last four (1407**********1234). Anything
//! that does not look like what it claims to be is masked whole rather than shown.

/// 张三 → 张某; 欧阳娜娜 → 欧阳某 for the common two-character surnames.
pub fn mask_name(name: &str) -> String {
    const DOUBLE_SURNAMES: [&str; 12] = [
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
        "夏侯",
    ];
    let name = name.trim();
    if name.is_empty() {
        return String::new();
    }
    if let Some(surname) = DOUBLE_SURNAMES.iter().find(|s| name.starts_with(**s))
        && name.chars().count() > 2
    {
        return format!("{surname}某");
    }
    let first: String = name.chars().take(1).collect();
    format!("{first}某")
}

/// 13812341234 → 138****1234; any other number (a landline) keeps only its last four digits.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        11 if digits[0] == '1' => format!(
            "{}****{}",
            digits[..3].iter().collect::<String>(),
            digits[7..].iter().collect::<String>()
        ),
        n if n >= 7 => format!("****{}", digits[n - 4..].iter().collect::<String>()),
        _ => "****".to_owned(),
    }
}

/// 140702199001011234 → 1407**********1234.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    if chars.len() != 18 && chars.len() != 15 {
        return "*".repeat(chars.len().max(4));
    }
    format!(
        "{}{}{}",
        chars[..4].iter().collect::<String>(),
        "*".repeat(chars.len() - 8),
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}

/// Masks phone numbers (11 digits starting with 1) and ID numbers (18 characters) that appear
/// inside free text, such as a case description.
pub fn mask_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run_end = chars[i..]
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == 'X' || *c == 'x'))
            .map_or(chars.len(), |p| i + p);
        if run_end > i {
            let run: String = chars[i..run_end].iter().collect();
            let masked = match run.len() {
                11 if run.starts_with('1') && run.chars().all(|c| c.is_ascii_digit()) => {
                    mask_phone(&run)
                }
                18 => mask_id_number(&run),
                _ => run,
            };
            out.push_str(&masked);
            i = run_end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_surname() {
        assert_eq!(mask_name("张三"), "张某");
        assert_eq!(mask_name("王小明"), "王某");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳某");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn phones_and_ids() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("0354-3221234"), "****1234");
        assert_eq!(mask_phone("12"), "****");
        assert_eq!(mask_id_number("14070219900101123X"), "1407**********123X");
        assert_eq!(mask_id_number("123"), "****");
    }

    #[test]
    fn free_text_is_masked() {
        let text = "联系人电话13812341234，身份证140702199001011234，门牌12号";
        let masked = mask_text(text);
        assert_eq!(
            masked,
            "联系人电话138****1234，身份证1407**********1234，门牌12号"
        );
    }
}
