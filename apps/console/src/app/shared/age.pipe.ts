import { Pipe, type PipeTransform } from '@angular/core';
import { humanAge } from '../../../../../libs/domain/src/human-age';

/** kubectl's AGE of a timestamp at `now` (pass NowService.now() so the age moves on): "95s", "3m20s", "4d". */
@Pipe({ name: 'age' })
export class AgePipe implements PipeTransform {
  transform(timestamp: string | undefined, now: Date): string {
    return timestamp ? humanAge(new Date(timestamp), now) : '–';
  }
}
