<?php
/**
 * Plugin Name: Pressluft page cache
 * Description: Asks the node to empty this site's page cache when its content changes.
 *
 * Installed by the Pressluft agent into every release as wp-content/mu-plugins/pressluft-cache.php
 * (from templates/wordpress/pressluft-cache.php; a release's own file of that name is replaced).
 * The cache is nginx's, and PHP never writes it: this plugin only connects to the site's own
 * purge socket (PRESSLUFT_PURGE_SOCKET, defined in wp-config.php) and writes one line, `purge`.
 * The agent empties the cache at most once a second, whatever it is asked.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** Remembers that this request changed what visitors see; the purge is asked once, at shutdown. */
function pressluft_cache_changed() {
	$GLOBALS['pressluft_cache_changed'] = true;
}

/** One `purge` line to the agent, waiting (briefly) for its answer; a node without the socket is no error. */
function pressluft_cache_purge() {
	if ( empty( $GLOBALS['pressluft_cache_changed'] ) || ! defined( 'PRESSLUFT_PURGE_SOCKET' ) ) {
		return;
	}
	$GLOBALS['pressluft_cache_changed'] = false;
	$socket = @stream_socket_client( 'unix://' . PRESSLUFT_PURGE_SOCKET, $errno, $errstr, 1.0 );
	if ( false === $socket ) {
		return;
	}
	stream_set_timeout( $socket, 3 );
	fwrite( $socket, "purge\n" );
	fgets( $socket, 16 );
	fclose( $socket );
}

// Published content appears, changes or goes.
add_action(
	'transition_post_status',
	function ( $new_status, $old_status ) {
		if ( 'publish' === $new_status || 'publish' === $old_status ) {
			pressluft_cache_changed();
		}
	},
	10,
	2
);
add_action(
	'save_post',
	function ( $post_id, $post ) {
		if ( wp_is_post_revision( $post_id ) || wp_is_post_autosave( $post_id ) ) {
			return;
		}
		if ( 'publish' === $post->post_status ) {
			pressluft_cache_changed();
		}
	},
	10,
	2
);
foreach (
	array(
		'deleted_post',
		// Comments.
		'comment_post',
		'edit_comment',
		'deleted_comment',
		'trashed_comment',
		'untrashed_comment',
		'spammed_comment',
		'unspammed_comment',
		'wp_set_comment_status',
		// Terms, menus, widgets, the theme and its customizations, plugins, settings.
		'created_term',
		'edited_term',
		'delete_term',
		'wp_update_nav_menu',
		'update_option_sidebars_widgets',
		'switch_theme',
		'customize_save_after',
		'activated_plugin',
		'deactivated_plugin',
		'update_option_blogname',
		'update_option_blogdescription',
		'update_option_permalink_structure',
		'update_option_show_on_front',
		'update_option_page_on_front',
	) as $pressluft_cache_hook
) {
	add_action( $pressluft_cache_hook, 'pressluft_cache_changed' );
}
unset( $pressluft_cache_hook );
add_action( 'shutdown', 'pressluft_cache_purge' );
