<?php
/**
 * Plugin Name: Pressluft staging
 * Description: A staging site sends no mail and asks search engines not to index it.
 *
 * Installed by the Pressluft agent into every release of a STAGING site (spec.environment
 * staging) as wp-content/mu-plugins/pressluft-staging.php (from
 * templates/wordpress/pressluft-staging.php); a production site's releases never hold it.
 *
 * - Mail: wp_mail() sends nothing. `pre_wp_mail` answers true ("handled") for every message, so
 *   a plugin neither retries nor shows its users a failure for a mail that was dropped on
 *   purpose. One line per dropped mail goes to PHP's error log, with the NUMBER of recipients and
 *   of their domains only: no address, subject or body (a staging copy holds production's
 *   customers; their data stays out of logs).
 * - Indexing: blog_public reads 0 (`pre_option_blog_public`), so WordPress adds its own noindex
 *   and robots.txt disallows everything, whatever the restored database says. WP-CLI sees the
 *   stored value (the agent stores 0 there after every restore or clone into a staging site).
 *   nginx adds `X-Robots-Tag: noindex, nofollow` to every answer as well.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** Recipients and distinct domains of wp_mail's `to` (a string with commas or a list). */
function pressluft_staging_count_recipients( $to ) {
	$list    = is_array( $to ) ? $to : explode( ',', (string) $to );
	$count   = 0;
	$domains = array();
	foreach ( $list as $recipient ) {
		$recipient = trim( (string) $recipient, " \t\n\r\0\x0B<>" );
		if ( '' === $recipient ) {
			continue;
		}
		++$count;
		$at = strrpos( $recipient, '@' );
		if ( false !== $at ) {
			$domains[ strtolower( rtrim( substr( $recipient, $at + 1 ), '>' ) ) ] = true;
		}
	}
	return array( $count, count( $domains ) );
}

add_filter(
	'pre_wp_mail',
	function ( $short_circuit, $atts ) {
		list( $recipients, $domains ) = pressluft_staging_count_recipients( isset( $atts['to'] ) ? $atts['to'] : '' );
		error_log( sprintf( 'pressluft staging: a mail to %d recipient(s) at %d domain(s) dropped (staging sites send no mail)', $recipients, $domains ) );
		return true;
	},
	PHP_INT_MAX,
	2
);

if ( ! ( defined( 'WP_CLI' ) && WP_CLI ) ) {
	add_filter(
		'pre_option_blog_public',
		function () {
			return '0';
		},
		PHP_INT_MAX
	);
}
