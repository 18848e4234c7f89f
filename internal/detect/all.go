package detect

import "time"

// Detector ids added for data discovery on files and databases. Like the ids of Default they
// are stable: findings, reports and masking configurations refer to them.
const (
	Landline        = "vn.landline"         // fixed-line number (02x, 11 digits)
	SocialInsurance = "vn.social_insurance" // mã số BHXH (10 digits) or health-insurance card code
	Passport        = "vn.passport"         // passport number (a letter and 7 digits) or its MRZ
	BankCard        = "vn.bank_card"        // payment card number (Luhn, issuer range)
	BankAccount     = "vn.bank_account"     // bank account number near an account label or bank name
	Email           = "vn.email"            // e-mail address
	BirthDate       = "vn.birth_date"       // date of birth next to a birth or name label
	FullName        = "vn.full_name"        // Vietnamese full name next to an identifier or name label

	SecretPrivateKey = "secret.private_key" // PEM, OpenSSH or PGP private key block
	SecretAWSKey     = "secret.aws_access_key"
	SecretAWSSecret  = "secret.aws_secret_key"
	SecretGoogleKey  = "secret.google_api_key"
	SecretGitHub     = "secret.github_token"
	SecretGitLab     = "secret.gitlab_token"
	SecretSlack      = "secret.slack_token"
	SecretSlackHook  = "secret.slack_webhook"
	SecretStripe     = "secret.stripe_key"
	SecretSendGrid   = "secret.sendgrid_key"
	SecretNPM        = "secret.npm_token"
	SecretTelegram   = "secret.telegram_bot_token"
	SecretAzure      = "secret.azure_storage_key"
	SecretJWT        = "secret.jwt"
	SecretPassword   = "secret.password" // a password in a connection string or a config entry
	SecretGeneric    = "secret.generic"  // an api_key/secret/token entry whose value has high entropy

	MarkKhongPhoBien = "marking.khong_pho_bien" // "KHÔNG PHỔ BIẾN", below the state-secret levels
	MarkNoiBo        = "marking.noi_bo"         // "LƯU HÀNH NỘI BỘ"
)

// Classes added with the detectors of All.
const (
	ClassSecret   Class = "secret"   // credentials: keys, tokens, passwords
	ClassInternal Class = "internal" // internal-circulation markings, below the state-secret levels
)

// Personal returns the personal-data detectors: those of Default and the ones added for files
// and databases, in a fixed order.
func Personal(now time.Time) []Detector {
	y := now.Year()
	return []Detector{
		citizenID{year: y}, oldID{}, phone{}, taxCode{},
		landline{}, socialInsurance{}, passport{}, bankCard{}, bankAccount{}, email{},
		birthDate{year: y}, fullName{year: y},
	}
}

// Secrets returns the credential detectors in a fixed order.
func Secrets() []Detector {
	out := []Detector{privateKey{}}
	for _, t := range tokenKinds {
		out = append(out, t)
	}
	return append(out, awsSecret{}, jwt{}, password{}, genericSecret{})
}

// Markings returns the marking detectors: the three state-secret levels of Default and the
// two lower internal-circulation markings.
func Markings() []Detector {
	return []Detector{
		marking{id: MarkMat, level: levelMat},
		marking{id: MarkToiMat, level: levelToiMat},
		marking{id: MarkTuyet, level: levelTuyetMat},
		lowerMarking{id: MarkKhongPhoBien, kind: lowerKhongPhoBien},
		lowerMarking{id: MarkNoiBo, kind: lowerNoiBo},
	}
}

// All returns every built-in detector: personal data, secrets and markings. Default stays the
// narrower set the public-page family was calibrated on.
func All(now time.Time) []Detector {
	out := Personal(now)
	out = append(out, Secrets()...)
	return append(out, Markings()...)
}

// Select returns the detectors of ds whose class is one of classes (all when none is given).
func Select(ds []Detector, classes ...Class) []Detector {
	if len(classes) == 0 {
		return ds
	}
	var out []Detector
	for _, d := range ds {
		c := ClassOf(d.ID())
		for _, want := range classes {
			if c == want {
				out = append(out, d)
				break
			}
		}
	}
	return out
}
