rule php_webshell_eval_request
{
    meta:
        description = "PHP file that evaluates request parameters (a classic web shell)"
        author = "CTI team"
        date = "2024-11-05"

    strings:
        $php = "<?php" nocase
        $eval = /(eval|assert)\s*\(\s*(base64_decode\s*\(\s*)?\$_(POST|GET|REQUEST|COOKIE)/ nocase
        $system = /(system|passthru|shell_exec)\s*\(\s*\$_(POST|GET|REQUEST)/ nocase

    condition:
        filesize < 200KB and $php and ($eval or $system)
}
